import { defineConfig } from "vite";

// Served by `bastion serve` at /console/; no CDN, no inline scripts (strict CSP).
export default defineConfig({
  base: "/console/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    assetsDir: "assets",
    sourcemap: false,
    modulePreload: { polyfill: false },
    target: "es2022",
  },
});
