/*
 * C accelerator for bastion's WAF scorer.
 *
 * Everything here re-implements, exactly, Python code that stays the readable reference
 * (tests compare the two on generated and hostile input):
 *
 *   Engine            features.featurize + the forward pass of model.Model
 *   normalize         transforms.normalize (the decoding chain)
 *   normalize_simple  the ASCII-only shortcut transforms.normalize uses
 *
 * Where exact re-implementation would mean copying a large or subtle piece of CPython
 * (full Unicode case mapping, NFKC, the UTF-8 error handler), the C code calls the very
 * same Python-level function the reference calls, so both paths agree by construction.
 *
 * The file is in sections: buffers, featurizer and model, text helpers, transforms,
 * normalize_simple, module definition.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#if defined(__GNUC__) && defined(__x86_64__)
#define FP_X86 1
#include <immintrin.h>
#else
#define FP_X86 0
#endif

/* ==================================================================== growable buffers */

/* A growable array of code points (the text representation used throughout: one uint32
 * per code point, like Python's str indexing, so slicing and lengths match exactly). */
typedef struct {
    uint32_t *p;
    Py_ssize_t n, cap;
} U32Buf;

/* A growable byte array (UTF-8 work buffers). */
typedef struct {
    unsigned char *p;
    Py_ssize_t n, cap;
} ByteBuf;

static Py_ssize_t grow_cap(Py_ssize_t cap, Py_ssize_t need) {
    Py_ssize_t c = cap ? cap : 64;
    while (c < need) {
        if (c > PY_SSIZE_T_MAX / 16) return need;
        c *= 2;
    }
    return c;
}

/* Make room for `extra` more items; -1 (MemoryError set) on failure. */
static int u32_reserve(U32Buf *b, Py_ssize_t extra) {
    if (extra < 0 || b->n > PY_SSIZE_T_MAX / 8 - extra) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t need = b->n + extra;
    if (need <= b->cap) return 0;
    Py_ssize_t cap = grow_cap(b->cap, need);
    uint32_t *p = (uint32_t *)PyMem_Realloc(b->p, (size_t)cap * sizeof(uint32_t));
    if (!p) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static inline int u32_push(U32Buf *b, uint32_t c) {
    if (b->n == b->cap && u32_reserve(b, 1) < 0) return -1;
    b->p[b->n++] = c;
    return 0;
}

static int u32_extend(U32Buf *b, const uint32_t *s, Py_ssize_t n) {
    if (u32_reserve(b, n) < 0) return -1;
    if (n) memcpy(b->p + b->n, s, (size_t)n * sizeof(uint32_t));
    b->n += n;
    return 0;
}

static void u32_free(U32Buf *b) {
    PyMem_Free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

static int bytes_reserve(ByteBuf *b, Py_ssize_t extra) {
    if (extra < 0 || b->n > PY_SSIZE_T_MAX / 8 - extra) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t need = b->n + extra;
    if (need <= b->cap) return 0;
    Py_ssize_t cap = grow_cap(b->cap, need);
    unsigned char *p = (unsigned char *)PyMem_Realloc(b->p, (size_t)cap);
    if (!p) {
        PyErr_NoMemory();
        return -1;
    }
    b->p = p;
    b->cap = cap;
    return 0;
}

static void bytes_free(ByteBuf *b) {
    PyMem_Free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

/* Code points of a str into `out` (replacing its content). */
static int unicode_to_u32(PyObject *s, U32Buf *out) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    out->n = 0;
    if (u32_reserve(out, n) < 0) return -1;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    if (kind == PyUnicode_1BYTE_KIND) {
        const Py_UCS1 *d = (const Py_UCS1 *)data;
        for (Py_ssize_t i = 0; i < n; i++) out->p[i] = d[i];
    } else if (kind == PyUnicode_2BYTE_KIND) {
        const Py_UCS2 *d = (const Py_UCS2 *)data;
        for (Py_ssize_t i = 0; i < n; i++) out->p[i] = d[i];
    } else {
        memcpy(out->p, data, (size_t)n * sizeof(uint32_t));
    }
    out->n = n;
    return 0;
}

/* A new str from code points. */
static PyObject *u32_to_unicode(const uint32_t *s, Py_ssize_t n) {
    uint32_t maxc = 0;
    for (Py_ssize_t i = 0; i < n; i++) maxc |= s[i];
    if (maxc < 0x80) {
        PyObject *out = PyUnicode_New(n, 127);
        if (!out) return NULL;
        Py_UCS1 *d = PyUnicode_1BYTE_DATA(out);
        for (Py_ssize_t i = 0; i < n; i++) d[i] = (Py_UCS1)s[i];
        return out;
    }
    return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, s, n);
}

/* ==================================================================== featurizer */

#define FNV_OFFSET 2166136261u
#define FNV_PRIME 16777619u
#define SEED_CHAR 0x1B873593u
#define SEED_SHAPE 0x5BD1E995u
#define SEED_WORD 0x27D4EB2Fu
#define SEED_TOKEN 0x165667B1u
#define CHAR_MAX_N 5
#define SHAPE_MIN_N 2
#define SHAPE_MAX_N 5
#define STX 0x02u
#define ETX 0x03u
#define N_HEADS 4

static inline uint32_t mix32(uint32_t h) {
    h ^= h >> 16;
    h *= 0x7FEB352Du;
    h ^= h >> 15;
    h *= 0x846CA68Bu;
    h ^= h >> 16;
    return h;
}

static inline uint32_t combine(uint32_t a, uint32_t b) {
    return ((a * 0x9E3779B1u) ^ b) * FNV_PRIME;
}

static inline uint32_t fold_digit(uint32_t c) { return (c >= 0x30 && c <= 0x39) ? 0x30 : c; }
static inline int is_word_start(uint32_t c) {
    return (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == 0x5F;
}
static inline int is_word_char(uint32_t c) { return is_word_start(c) || (c >= 0x30 && c <= 0x39); }

typedef struct {
    PyObject_HEAD
    int bits;
    uint32_t mask;
    int hidden;
    /* keyword table: open addressing, key 0 never stored (a zero hash is treated as no keyword) */
    uint32_t *kw_keys;
    uint8_t *kw_vals;
    uint32_t kw_mask;
    /* Embedding table, (1 << bits) x hidden; NULL for a featurize-only engine. When every
     * weight is exactly a half float (the model file stores them so) and the CPU has
     * AVX2+F16C, rows are kept as halves: half the memory traffic, the same float32 values
     * after the exact conversion, so the same sums. */
    float *emb;
    uint16_t *emb16;
    void *emb16_raw; /* allocation behind the 64-byte aligned emb16 */
    float *b1;       /* hidden */
    float *w2;       /* N_HEADS x hidden */
    float b2[N_HEADS];
} Engine;

/* Bucket ids of one window, plus scratch for the featurizer. Sized before use, so the
 * inner loops never check capacity. */
typedef struct {
    uint32_t *ids;
    Py_ssize_t n, cap;
    uint32_t *tmp;
    Py_ssize_t tmp_cap;
} Features;

/* Upper bound of the ids emitted for a text of n code points: 5 per char position, 4 per
 * shape position, one per word and two per token, over n + 3 positions. */
static inline Py_ssize_t features_bound(Py_ssize_t n) { return 12 * n + 64; }

static int features_reserve(Features *f, Py_ssize_t n) {
    if (n > (PY_SSIZE_T_MAX / 64) / (Py_ssize_t)sizeof(uint32_t)) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t need = features_bound(n);
    if (need > f->cap) {
        uint32_t *p = (uint32_t *)PyMem_Realloc(f->ids, (size_t)need * sizeof(uint32_t));
        if (!p) {
            PyErr_NoMemory();
            return -1;
        }
        f->ids = p;
        f->cap = need;
    }
    Py_ssize_t tmp = 3 * (n + 4);
    if (tmp > f->tmp_cap) {
        uint32_t *p = (uint32_t *)PyMem_Realloc(f->tmp, (size_t)tmp * sizeof(uint32_t));
        if (!p) {
            PyErr_NoMemory();
            return -1;
        }
        f->tmp = p;
        f->tmp_cap = tmp;
    }
    return 0;
}

static void features_free(Features *f) {
    PyMem_Free(f->ids);
    PyMem_Free(f->tmp);
    memset(f, 0, sizeof(*f));
}

static inline uint8_t kw_lookup(const Engine *e, uint32_t h) {
    if (!e->kw_keys || h == 0) return 0;
    uint32_t i = mix32(h) & e->kw_mask;
    while (e->kw_keys[i]) {
        if (e->kw_keys[i] == h) return e->kw_vals[i];
        i = (i + 1) & e->kw_mask;
    }
    return 0;
}

/* All features of one window (features.featurize); `f` must be reserved for n. */
static void featurize(const Engine *e, const uint32_t *text, Py_ssize_t n, uint32_t kind,
                      Features *f) {
    const uint32_t mask = e->mask;
    uint32_t *out = f->ids;
    Py_ssize_t no = 0;
    uint32_t *chars = f->tmp;             /* n + 3 */
    uint32_t *shape = f->tmp + (n + 4);   /* <= n + 3 */
    uint32_t *tokens = f->tmp + 2 * (n + 4);

    Py_ssize_t nc = 0;
    chars[nc++] = STX;
    chars[nc++] = kind;
    for (Py_ssize_t i = 0; i < n; i++) chars[nc++] = fold_digit(text[i]);
    chars[nc++] = ETX;
    for (Py_ssize_t i = 0; i < nc; i++) {
        uint32_t h = FNV_OFFSET ^ SEED_CHAR;
        Py_ssize_t end = i + CHAR_MAX_N < nc ? i + CHAR_MAX_N : nc;
        for (Py_ssize_t j = i; j < end; j++) {
            h = (h ^ chars[j]) * FNV_PRIME;
            out[no++] = mix32(h) & mask;
        }
    }

    Py_ssize_t ns = 0, nt = 0;
    shape[ns++] = STX;
    shape[ns++] = kind;
    Py_ssize_t i = 0;
    while (i < n) {
        uint32_t c = text[i];
        if (is_word_start(c)) {
            uint32_t h = FNV_OFFSET ^ SEED_WORD;
            while (i < n && is_word_char(text[i])) {
                h = (h ^ fold_digit(text[i])) * FNV_PRIME;
                i++;
            }
            uint8_t cls = kw_lookup(e, h);
            shape[ns++] = cls ? cls : 0x61;
            tokens[nt++] = h;
            out[no++] = mix32(h ^ SEED_TOKEN) & mask;
        } else if (c >= 0x30 && c <= 0x39) {
            while (i < n && text[i] >= 0x30 && text[i] <= 0x39) i++;
            shape[ns++] = 0x30;
            tokens[nt++] = 0x30;
        } else if (c == 0x20 || c == 0x09) {
            while (i < n && (text[i] == 0x20 || text[i] == 0x09)) i++;
            shape[ns++] = 0x20;
        } else if (c > 0x7F) {
            while (i < n && text[i] > 0x7F) i++;
            shape[ns++] = 0x75;
            tokens[nt++] = 0x75;
        } else {
            shape[ns++] = c;
            tokens[nt++] = c;
            i++;
        }
    }
    shape[ns++] = ETX;

    for (Py_ssize_t a = 0; a < ns; a++) {
        uint32_t h = FNV_OFFSET ^ SEED_SHAPE;
        Py_ssize_t end = a + SHAPE_MAX_N < ns ? a + SHAPE_MAX_N : ns;
        for (Py_ssize_t j = a; j < end; j++) {
            h = (h ^ shape[j]) * FNV_PRIME;
            if (j - a + 1 >= SHAPE_MIN_N) out[no++] = mix32(h) & mask;
        }
    }
    for (Py_ssize_t a = 0; a + 1 < nt; a++) {
        uint32_t h2 = combine(tokens[a] ^ SEED_TOKEN, tokens[a + 1]);
        out[no++] = mix32(h2) & mask;
        if (a + 2 < nt) out[no++] = mix32(combine(h2, tokens[a + 2])) & mask;
    }
    f->n = no;
}

/* ---------------------------------------------------------------- model forward pass */

/* Rows fetched ahead of use: the table is larger than L2, so latency, not arithmetic,
 * bounds the sum. */
#define PREFETCH_AHEAD 32

/* Sum of the embedding rows of `ids`, in order (float addition is not associative: every
 * kernel adds the rows one after the other per lane, so all give bit-identical sums). */
static void accumulate_generic(const Engine *e, const uint32_t *ids, Py_ssize_t n, float *acc) {
    const int hidden = e->hidden;
    const size_t stride = (size_t)hidden;
    memset(acc, 0, (size_t)hidden * sizeof(float));
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i + PREFETCH_AHEAD < n) {
            const char *p = (const char *)(e->emb + (size_t)ids[i + PREFETCH_AHEAD] * stride);
            __builtin_prefetch(p);
            __builtin_prefetch(p + 64);
        }
        const float *row = e->emb + (size_t)ids[i] * stride;
        for (int k = 0; k < hidden; k++) acc[k] += row[k];
    }
}

#if FP_X86
/* hidden == 32, half-float rows (one 64-byte cache line each), accumulators in registers. */
__attribute__((target("avx2,f16c"))) static void accumulate_f16x32(const Engine *e,
                                                                   const uint32_t *ids,
                                                                   Py_ssize_t n, float *acc) {
    const uint16_t *emb = e->emb16;
    __m256 a0 = _mm256_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i + PREFETCH_AHEAD < n)
            _mm_prefetch((const char *)(emb + (size_t)ids[i + PREFETCH_AHEAD] * 32), _MM_HINT_T0);
        const __m128i *row = (const __m128i *)(emb + (size_t)ids[i] * 32);
        a0 = _mm256_add_ps(a0, _mm256_cvtph_ps(_mm_load_si128(row)));
        a1 = _mm256_add_ps(a1, _mm256_cvtph_ps(_mm_load_si128(row + 1)));
        a2 = _mm256_add_ps(a2, _mm256_cvtph_ps(_mm_load_si128(row + 2)));
        a3 = _mm256_add_ps(a3, _mm256_cvtph_ps(_mm_load_si128(row + 3)));
    }
    _mm256_storeu_ps(acc, a0);
    _mm256_storeu_ps(acc + 8, a1);
    _mm256_storeu_ps(acc + 16, a2);
    _mm256_storeu_ps(acc + 24, a3);
}

static int cpu_has_f16_kernel(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("f16c");
}
#endif

/* Logits of one featurized window: relu(sum / sqrt(count) + b1) through the heads. */
static void forward(const Engine *e, const uint32_t *ids, Py_ssize_t n, float *acc, float *out) {
#if FP_X86
    if (e->emb16)
        accumulate_f16x32(e, ids, n, acc);
    else
#endif
        accumulate_generic(e, ids, n, acc);
    float scale = n > 0 ? 1.0f / sqrtf((float)n) : 0.0f;
    for (int h = 0; h < N_HEADS; h++) out[h] = e->b2[h];
    for (int k = 0; k < e->hidden; k++) {
        float z = acc[k] * scale + e->b1[k];
        if (z <= 0.0f) continue;
        for (int h = 0; h < N_HEADS; h++) out[h] += e->w2[h * e->hidden + k] * z;
    }
}

/* Exact float32 -> half conversion; 0 when `f` is not a half float. */
static int float_to_half_exact(float f, uint16_t *out) {
    uint32_t x;
    memcpy(&x, &f, sizeof x);
    uint16_t sign = (uint16_t)((x >> 16) & 0x8000u);
    int exp = (int)((x >> 23) & 0xFF);
    uint32_t man = x & 0x7FFFFFu;
    if (exp == 0xFF) return 0;
    if (exp == 0) {
        if (man) return 0; /* float32 subnormals are far below the half range */
        *out = sign;
        return 1;
    }
    int e = exp - 127;
    if (e > 15 || e < -24) return 0;
    if (e >= -14) {
        if (man & 0x1FFFu) return 0;
        *out = (uint16_t)(sign | ((uint32_t)(e + 15) << 10) | (man >> 13));
        return 1;
    }
    /* half subnormal: value = m * 2^-24 with m = significand * 2^(e + 1) */
    uint32_t full = 0x800000u | man;
    int shift = -(e + 1);
    if (full & ((1u << shift) - 1u)) return 0;
    *out = (uint16_t)(sign | (full >> shift));
    return 1;
}

static float half_to_float(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1Fu, man = h & 0x3FFu;
    uint32_t bits;
    if (exp == 0) {
        float f = (float)man * (1.0f / 16777216.0f);
        memcpy(&bits, &f, sizeof bits);
        bits |= sign;
    } else if (exp == 31) {
        bits = sign | 0x7F800000u | (man << 13);
    } else {
        bits = sign | ((exp + 112) << 23) | (man << 13);
    }
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Keep the table as halves when that loses nothing and a half kernel exists. */
static int engine_try_half_table(Engine *self, int allow) {
#if FP_X86
    if (!allow || self->hidden != 32 || !cpu_has_f16_kernel()) return 0;
    size_t count = ((size_t)1 << self->bits) * (size_t)self->hidden;
    void *raw = PyMem_RawMalloc(count * sizeof(uint16_t) + 64);
    if (!raw) return 0; /* the float table still works */
    uint16_t *h = (uint16_t *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    for (size_t i = 0; i < count; i++) {
        uint32_t a, b;
        float back;
        if (!float_to_half_exact(self->emb[i], &h[i])) goto keep_float;
        back = half_to_float(h[i]);
        memcpy(&a, &back, sizeof a);
        memcpy(&b, &self->emb[i], sizeof b);
        if (a != b) goto keep_float;
    }
    self->emb16 = h;
    self->emb16_raw = raw;
    PyMem_RawFree(self->emb);
    self->emb = NULL;
    return 1;
keep_float:
    PyMem_RawFree(raw);
    return 0;
#else
    (void)self;
    (void)allow;
    return 0;
#endif
}

static int copy_floats(PyObject *obj, float *dst, Py_ssize_t count, const char *name) {
    Py_buffer view;
    if (PyObject_GetBuffer(obj, &view, PyBUF_C_CONTIGUOUS) < 0) return -1;
    if (view.len != count * (Py_ssize_t)sizeof(float)) {
        PyErr_Format(PyExc_ValueError, "%s: expected %zd float32 values, got %zd bytes", name,
                     count, view.len);
        PyBuffer_Release(&view);
        return -1;
    }
    memcpy(dst, view.buf, (size_t)view.len);
    PyBuffer_Release(&view);
    return 0;
}

static void Engine_dealloc(Engine *self) {
    PyMem_RawFree(self->kw_keys);
    PyMem_RawFree(self->kw_vals);
    PyMem_RawFree(self->emb);
    PyMem_RawFree(self->emb16_raw);
    PyMem_RawFree(self->b1);
    PyMem_RawFree(self->w2);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Engine_init(Engine *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"bits", "keywords", "hidden", "emb", "b1", "w2", "b2", "half", NULL};
    int bits, hidden = 0, half = 1;
    PyObject *keywords, *emb = Py_None, *b1 = Py_None, *w2 = Py_None, *b2 = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "iO!|iOOOO$p", kwlist, &bits, &PyDict_Type,
                                     &keywords, &hidden, &emb, &b1, &w2, &b2, &half))
        return -1;
    if (self->kw_keys || self->emb || self->emb16) {
        PyErr_SetString(PyExc_RuntimeError, "Engine is already initialized");
        return -1;
    }
    if (bits < 8 || bits > 26) {
        PyErr_SetString(PyExc_ValueError, "bits must be in 8..26");
        return -1;
    }
    self->bits = bits;
    self->mask = (1u << bits) - 1u;
    Py_ssize_t nkw = PyDict_Size(keywords);
    if (nkw > (1 << 24)) {
        PyErr_SetString(PyExc_ValueError, "too many keywords");
        return -1;
    }
    uint32_t cap = 16;
    while (cap < (uint32_t)(nkw * 4)) cap <<= 1;
    self->kw_keys = (uint32_t *)PyMem_RawCalloc(cap, sizeof(uint32_t));
    self->kw_vals = (uint8_t *)PyMem_RawCalloc(cap, 1);
    if (!self->kw_keys || !self->kw_vals) {
        PyErr_NoMemory();
        return -1;
    }
    self->kw_mask = cap - 1;
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(keywords, &pos, &key, &value)) {
        unsigned long k = PyLong_AsUnsignedLong(key);
        if (PyErr_Occurred()) return -1;
        if (!PyUnicode_Check(value) || PyUnicode_GET_LENGTH(value) != 1) {
            PyErr_SetString(PyExc_ValueError, "keyword classes must be one character");
            return -1;
        }
        uint32_t h = (uint32_t)k;
        if (h == 0) continue;
        uint32_t i = mix32(h) & self->kw_mask;
        while (self->kw_keys[i] && self->kw_keys[i] != h) i = (i + 1) & self->kw_mask;
        self->kw_keys[i] = h;
        self->kw_vals[i] = (uint8_t)PyUnicode_READ_CHAR(value, 0);
    }
    if (emb != Py_None) {
        if (hidden <= 0 || hidden > 1024) {
            PyErr_SetString(PyExc_ValueError, "hidden must be in 1..1024");
            return -1;
        }
        self->hidden = hidden;
        size_t rows = (size_t)1 << bits;
        self->emb = (float *)PyMem_RawMalloc(rows * (size_t)hidden * sizeof(float));
        self->b1 = (float *)PyMem_RawMalloc((size_t)hidden * sizeof(float));
        self->w2 = (float *)PyMem_RawMalloc((size_t)hidden * N_HEADS * sizeof(float));
        if (!self->emb || !self->b1 || !self->w2) {
            PyErr_NoMemory();
            return -1;
        }
        if (copy_floats(emb, self->emb, (Py_ssize_t)(rows * (size_t)hidden), "emb") < 0 ||
            copy_floats(b1, self->b1, hidden, "b1") < 0 ||
            copy_floats(w2, self->w2, (Py_ssize_t)hidden * N_HEADS, "w2") < 0 ||
            copy_floats(b2, self->b2, N_HEADS, "b2") < 0)
            return -1;
        engine_try_half_table(self, half);
    }
    return 0;
}

static int engine_has_weights(const Engine *e) { return e->emb != NULL || e->emb16 != NULL; }

static PyObject *Engine_features(Engine *self, PyObject *args) {
    PyObject *text;
    unsigned int kind;
    if (!PyArg_ParseTuple(args, "UI", &text, &kind)) return NULL;
    U32Buf u = {0};
    Features f = {0};
    PyObject *out = NULL;
    if (unicode_to_u32(text, &u) == 0 && features_reserve(&f, u.n) == 0) {
        featurize(self, u.p, u.n, kind, &f);
        out = PyBytes_FromStringAndSize((const char *)f.ids, f.n * (Py_ssize_t)sizeof(uint32_t));
    }
    u32_free(&u);
    features_free(&f);
    return out;
}

/* logits(texts: list[str], kinds: bytes) -> bytes of float32 [len(texts) x 4] */
static PyObject *Engine_logits(Engine *self, PyObject *args) {
    PyObject *texts;
    Py_buffer kinds;
    if (!engine_has_weights(self)) {
        PyErr_SetString(PyExc_RuntimeError, "engine has no model weights");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "O!y*", &PyList_Type, &texts, &kinds)) return NULL;
    Py_ssize_t n = PyList_GET_SIZE(texts);
    if (kinds.len != n) {
        PyBuffer_Release(&kinds);
        PyErr_SetString(PyExc_ValueError, "kinds must have one byte per text");
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize(NULL, n * N_HEADS * (Py_ssize_t)sizeof(float));
    float *acc = (float *)PyMem_Malloc((size_t)self->hidden * sizeof(float));
    U32Buf u = {0};
    Features f = {0};
    if (!out || !acc) {
        if (out) PyErr_NoMemory();
        goto fail;
    }
    float *res = (float *)PyBytes_AS_STRING(out);
    const unsigned char *kb = (const unsigned char *)kinds.buf;
    for (Py_ssize_t t = 0; t < n; t++) {
        PyObject *text = PyList_GET_ITEM(texts, t);
        if (!PyUnicode_Check(text)) {
            PyErr_SetString(PyExc_TypeError, "texts must be str");
            goto fail;
        }
        if (unicode_to_u32(text, &u) < 0 || features_reserve(&f, u.n) < 0) goto fail;
        featurize(self, u.p, u.n, kb[t], &f);
        forward(self, f.ids, f.n, acc, res + t * N_HEADS);
    }
    PyMem_Free(acc);
    u32_free(&u);
    features_free(&f);
    PyBuffer_Release(&kinds);
    return out;
fail:
    PyMem_Free(acc);
    u32_free(&u);
    features_free(&f);
    PyBuffer_Release(&kinds);
    Py_XDECREF(out);
    return NULL;
}

static PyObject *Engine_get_half(Engine *self, void *closure) {
    (void)closure;
    return PyBool_FromLong(self->emb16 != NULL);
}

static PyGetSetDef Engine_getset[] = {
    {"half", (getter)Engine_get_half, NULL,
     "True when the embedding table is kept as half floats (exactly the same values).", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyMethodDef Engine_methods[] = {
    {"features", (PyCFunction)Engine_features, METH_VARARGS,
     "features(text, kind_code) -> bytes of uint32 bucket ids"},
    {"logits", (PyCFunction)Engine_logits, METH_VARARGS,
     "logits(texts, kinds) -> bytes of float32, 4 per text"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject EngineType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bastion.waf._fastpath.Engine",
    .tp_basicsize = sizeof(Engine),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Engine_init,
    .tp_dealloc = (destructor)Engine_dealloc,
    .tp_methods = Engine_methods,
    .tp_getset = Engine_getset,
    .tp_doc = "Featurizer and forward pass of the WAF model.",
};

/* ==================================================================== text helpers */

/* Python-level objects some steps defer to, imported on first use (module globals: this
 * is a single-phase module, and the objects are immutable stdlib functions and tables). */
static PyObject *g_nfkc_normalize; /* unicodedata.normalize */
static PyObject *g_nfkc_form;      /* "NFKC" */
static PyObject *g_html5;          /* html.entities.html5 */
static PyObject *g_str_lower;      /* "lower" */

static int ensure_text_globals(void) {
    if (g_html5) return 0;
    PyObject *ud = PyImport_ImportModule("unicodedata");
    if (!ud) return -1;
    PyObject *norm = PyObject_GetAttrString(ud, "normalize");
    Py_DECREF(ud);
    if (!norm) return -1;
    PyObject *ent = PyImport_ImportModule("html.entities");
    if (!ent) {
        Py_DECREF(norm);
        return -1;
    }
    PyObject *html5 = PyObject_GetAttrString(ent, "html5");
    Py_DECREF(ent);
    if (!html5 || !PyDict_Check(html5)) {
        Py_XDECREF(html5);
        Py_DECREF(norm);
        if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "html.entities.html5 is not a dict");
        return -1;
    }
    PyObject *form = PyUnicode_InternFromString("NFKC");
    PyObject *lower = PyUnicode_InternFromString("lower");
    if (!form || !lower) {
        Py_XDECREF(form);
        Py_XDECREF(lower);
        Py_DECREF(norm);
        Py_DECREF(html5);
        return -1;
    }
    g_nfkc_normalize = norm;
    g_nfkc_form = form;
    g_str_lower = lower;
    g_html5 = html5;
    return 0;
}

static inline int is_ascii_space(uint32_t c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1C && c <= 0x1F);
}

/* str.isspace() of one code point, which is also what `\s` and str.strip() use. */
static inline int is_space(uint32_t c) { return c < 0x80 ? is_ascii_space(c) : Py_UNICODE_ISSPACE(c); }

static inline int is_hex(uint32_t c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static inline uint32_t hex_value(uint32_t c) {
    return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
static inline int is_ascii_alpha(uint32_t c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static inline int is_ascii_digit(uint32_t c) { return c >= '0' && c <= '9'; }
static inline int is_ascii_alnum(uint32_t c) { return is_ascii_alpha(c) || is_ascii_digit(c); }
static inline int is_surrogate(uint32_t c) { return c >= 0xD800 && c <= 0xDFFF; }

static int u32_contains(const uint32_t *s, Py_ssize_t n, uint32_t c) {
    for (Py_ssize_t i = 0; i < n; i++)
        if (s[i] == c) return 1;
    return 0;
}

static int u32_equal(const uint32_t *a, Py_ssize_t na, const uint32_t *b, Py_ssize_t nb) {
    return na == nb && (na == 0 || memcmp(a, b, (size_t)na * sizeof(uint32_t)) == 0);
}

static uint32_t u32_max(const uint32_t *s, Py_ssize_t n) {
    uint32_t m = 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (s[i] > m) m = s[i];
    return m;
}

static inline void swap_bufs(U32Buf *a, U32Buf *b) {
    U32Buf t = *a;
    *a = *b;
    *b = t;
}

/* Append code points as UTF-8, lone surrogates as their 3-byte form
 * (str.encode(errors="surrogatepass")). */
static int utf8_encode_append(ByteBuf *out, const uint32_t *s, Py_ssize_t n) {
    if (n > PY_SSIZE_T_MAX / 8 || bytes_reserve(out, 4 * n) < 0) return -1;
    unsigned char *d = out->p + out->n;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t c = s[i];
        if (c < 0x80) {
            *d++ = (unsigned char)c;
        } else if (c < 0x800) {
            *d++ = (unsigned char)(0xC0 | (c >> 6));
            *d++ = (unsigned char)(0x80 | (c & 0x3F));
        } else if (c < 0x10000) {
            *d++ = (unsigned char)(0xE0 | (c >> 12));
            *d++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            *d++ = (unsigned char)(0x80 | (c & 0x3F));
        } else {
            *d++ = (unsigned char)(0xF0 | (c >> 18));
            *d++ = (unsigned char)(0x80 | ((c >> 12) & 0x3F));
            *d++ = (unsigned char)(0x80 | ((c >> 6) & 0x3F));
            *d++ = (unsigned char)(0x80 | (c & 0x3F));
        }
    }
    out->n = d - out->p;
    return 0;
}

/* Length of the well-formed UTF-8 sequence at s[0:n] (Unicode table 3-7, which is
 * exactly what Python's strict decoder accepts), or 0 when it is not well formed. */
static inline int utf8_seq_len(const unsigned char *s, Py_ssize_t n, uint32_t *cp) {
    unsigned char c = s[0];
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        if (n < 2 || (s[1] & 0xC0) != 0x80) return 0;
        *cp = ((uint32_t)(c & 0x1F) << 6) | (s[1] & 0x3F);
        return 2;
    }
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[2] & 0xC0) != 0x80) return 0;
        unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
        if (s[1] < lo || s[1] > hi) return 0;
        *cp = ((uint32_t)(c & 0x0F) << 12) | ((uint32_t)(s[1] & 0x3F) << 6) | (s[2] & 0x3F);
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80) return 0;
        unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
        if (s[1] < lo || s[1] > hi) return 0;
        *cp = ((uint32_t)(c & 0x07) << 18) | ((uint32_t)(s[1] & 0x3F) << 12) |
              ((uint32_t)(s[2] & 0x3F) << 6) | (s[3] & 0x3F);
        return 4;
    }
    return 0;
}

/* bytes.decode() (strict): appends and returns 1, or returns 0 (out unchanged) when the
 * bytes are not well-formed UTF-8; -1 on memory error. */
static int utf8_decode_strict(const unsigned char *s, Py_ssize_t n, U32Buf *out) {
    Py_ssize_t start = out->n;
    if (u32_reserve(out, n) < 0) return -1;
    uint32_t *d = out->p + start;
    Py_ssize_t i = 0;
    while (i < n) {
        if (s[i] < 0x80) {
            *d++ = s[i++];
            continue;
        }
        uint32_t cp;
        int len = utf8_seq_len(s + i, n - i, &cp);
        if (!len) return 0;
        *d++ = cp;
        i += len;
    }
    out->n = d - out->p;
    return 1;
}

/* transforms._overlong_to_utf8 over a whole buffer (the _OVERLONG regex, left to right). */
static int replace_overlong(const unsigned char *s, Py_ssize_t n, ByteBuf *out) {
    out->n = 0;
    if (bytes_reserve(out, n + 3) < 0) return -1;
    unsigned char *d = out->p;
    Py_ssize_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        int len = 0;
        if ((c == 0xC0 || c == 0xC1) && i + 1 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0xBF)
            len = 2;
        else if (c == 0xE0 && i + 2 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x9F &&
                 s[i + 2] >= 0x80 && s[i + 2] <= 0xBF)
            len = 3;
        else if (c == 0xF0 && i + 3 < n && s[i + 1] >= 0x80 && s[i + 1] <= 0x8F &&
                 s[i + 2] >= 0x80 && s[i + 2] <= 0xBF && s[i + 3] >= 0x80 && s[i + 3] <= 0xBF)
            len = 4;
        if (!len) {
            *d++ = c;
            i++;
            continue;
        }
        uint32_t code = c & (len == 2 ? 0x1F : len == 3 ? 0x0F : 0x07);
        for (int k = 1; k < len; k++) code = (code << 6) | (s[i + k] & 0x3F);
        i += len;
        /* the decoded form is never longer than the overlong one */
        if (is_surrogate(code)) code = 0xFFFD;
        if (code < 0x80) {
            *d++ = (unsigned char)code;
        } else if (code < 0x800) {
            *d++ = (unsigned char)(0xC0 | (code >> 6));
            *d++ = (unsigned char)(0x80 | (code & 0x3F));
        } else {
            *d++ = (unsigned char)(0xE0 | (code >> 12));
            *d++ = (unsigned char)(0x80 | ((code >> 6) & 0x3F));
            *d++ = (unsigned char)(0x80 | (code & 0x3F));
        }
    }
    out->n = d - out->p;
    return 0;
}

/* transforms.decode_bytes: UTF-8; overlong forms become what they encode, the remaining
 * bad bytes U+FFFD exactly as Python's "replace" handler does (it is the one used). */
static int decode_bytes_append(const unsigned char *s, Py_ssize_t n, U32Buf *out, ByteBuf *tmp) {
    int ok = utf8_decode_strict(s, n, out);
    if (ok != 0) return ok < 0 ? -1 : 0;
    if (replace_overlong(s, n, tmp) < 0) return -1;
    PyObject *text = PyUnicode_DecodeUTF8((const char *)tmp->p, tmp->n, "replace");
    if (!text) return -1;
    Py_ssize_t len = PyUnicode_GET_LENGTH(text);
    int rc = u32_reserve(out, len);
    if (rc == 0) {
        int kind = PyUnicode_KIND(text);
        const void *data = PyUnicode_DATA(text);
        for (Py_ssize_t i = 0; i < len; i++) out->p[out->n++] = PyUnicode_READ(kind, data, i);
    }
    Py_DECREF(text);
    return rc;
}

/* Apply a str method or function of one str argument to code points, in place. */
static int call_on_text(U32Buf *text, PyObject *callable, PyObject *method_name) {
    PyObject *s = u32_to_unicode(text->p, text->n);
    if (!s) return -1;
    PyObject *r;
    if (method_name) {
        r = PyObject_CallMethodNoArgs(s, method_name);
    } else {
        PyObject *args[2] = {g_nfkc_form, s};
        r = PyObject_Vectorcall(callable, args, 2, NULL);
    }
    Py_DECREF(s);
    if (!r) return -1;
    if (!PyUnicode_Check(r)) {
        Py_DECREF(r);
        PyErr_SetString(PyExc_TypeError, "expected str");
        return -1;
    }
    int rc = unicode_to_u32(r, text);
    Py_DECREF(r);
    return rc;
}

/* ==================================================================== transforms */

/* Scratch shared by the steps of one normalize call (allocated per call site). */
typedef struct {
    U32Buf a, b, before, extra, piece;
    ByteBuf bytes, bytes2;
} NormScratch;

static void norm_scratch_free(NormScratch *s) {
    u32_free(&s->a);
    u32_free(&s->b);
    u32_free(&s->before);
    u32_free(&s->extra);
    u32_free(&s->piece);
    bytes_free(&s->bytes);
    bytes_free(&s->bytes2);
}

/* Write a code point below 0x10000 as UTF-8. */
static inline unsigned char *put_utf8_bmp(unsigned char *d, uint32_t code) {
    if (code < 0x80) {
        *d++ = (unsigned char)code;
    } else if (code < 0x800) {
        *d++ = (unsigned char)(0xC0 | (code >> 6));
        *d++ = (unsigned char)(0x80 | (code & 0x3F));
    } else {
        *d++ = (unsigned char)(0xE0 | (code >> 12));
        *d++ = (unsigned char)(0x80 | ((code >> 6) & 0x3F));
        *d++ = (unsigned char)(0x80 | (code & 0x3F));
    }
    return d;
}

/* url_decode_uni: percent-decode once (and IIS %uXXXX) on the UTF-8 bytes of the text,
 * then decode_bytes. Writes `out`; returns 1 when it differs from `in`, 0 when not, -1 on
 * error. (Splitting on '%' as the reference does is the same as this scan: the two or
 * five characters examined after a '%' are hex digits, never another '%'.) */
static int url_decode_uni(const U32Buf *in, U32Buf *out, NormScratch *s) {
    if (!u32_contains(in->p, in->n, '%')) return 0;
    ByteBuf *enc = &s->bytes, *dec = &s->bytes2;
    enc->n = 0;
    if (utf8_encode_append(enc, in->p, in->n) < 0) return -1;
    dec->n = 0;
    if (bytes_reserve(dec, enc->n) < 0) return -1; /* decoding never lengthens the bytes */
    const unsigned char *p = enc->p;
    Py_ssize_t n = enc->n, i = 0;
    unsigned char *d = dec->p;
    while (i < n) {
        if (p[i] != '%') {
            *d++ = p[i++];
        } else if (i + 2 < n && is_hex(p[i + 1]) && is_hex(p[i + 2])) {
            *d++ = (unsigned char)(hex_value(p[i + 1]) << 4 | hex_value(p[i + 2]));
            i += 3;
        } else if (i + 5 < n && (p[i + 1] == 'u' || p[i + 1] == 'U') && is_hex(p[i + 2]) &&
                   is_hex(p[i + 3]) && is_hex(p[i + 4]) && is_hex(p[i + 5])) {
            uint32_t code = hex_value(p[i + 2]) << 12 | hex_value(p[i + 3]) << 8 |
                            hex_value(p[i + 4]) << 4 | hex_value(p[i + 5]);
            d = put_utf8_bmp(d, is_surrogate(code) ? 0xFFFD : code);
            i += 6;
        } else {
            *d++ = p[i++];
        }
    }
    dec->n = d - dec->p;
    out->n = 0;
    if (decode_bytes_append(dec->p, dec->n, out, enc) < 0) return -1;
    return !u32_equal(in->p, in->n, out->p, out->n);
}

/* transforms._char_from_number: the character of a numeric reference, or -1 to keep it. */
static int64_t char_from_number(const uint32_t *digits, Py_ssize_t n, int base) {
    while (n > 1 && digits[0] == '0') {
        digits++;
        n--;
    }
    if (n > 7) return -1;
    uint32_t code = 0;
    for (Py_ssize_t i = 0; i < n; i++) code = code * (uint32_t)base + hex_value(digits[i]);
    if (code > 0x10FFFF) return -1;
    if (code == 0 || is_surrogate(code)) return 0xFFFD;
    return code;
}

/* Entities a browser decodes without ';' (transforms._BARE_ENTITIES). */
static const struct {
    const char *name;
    uint32_t value;
} BARE_ENTITIES[] = {{"lt", '<'},   {"gt", '>'},   {"amp", '&'}, {"quot", '"'}, {"nbsp", 0xA0},
                     {"LT", '<'},   {"GT", '>'},   {"AMP", '&'}, {"QUOT", '"'}};

static int64_t bare_entity(const uint32_t *name, Py_ssize_t n) {
    for (size_t k = 0; k < sizeof BARE_ENTITIES / sizeof BARE_ENTITIES[0]; k++) {
        const char *b = BARE_ENTITIES[k].name;
        if ((Py_ssize_t)strlen(b) != n) continue;
        Py_ssize_t i = 0;
        while (i < n && name[i] == (unsigned char)b[i]) i++;
        if (i == n) return BARE_ENTITIES[k].value;
    }
    return -1;
}

/* html5[name + ";"] appended to out: 1 when found, 0 when not, -1 on error. */
static int append_named_entity(const uint32_t *name, Py_ssize_t n, U32Buf *out) {
    char key[40];
    for (Py_ssize_t i = 0; i < n; i++) key[i] = (char)name[i]; /* ASCII, n <= 32 */
    key[n] = ';';
    PyObject *k = PyUnicode_FromStringAndSize(key, n + 1);
    if (!k) return -1;
    PyObject *v = PyDict_GetItemWithError(g_html5, k); /* borrowed */
    Py_DECREF(k);
    if (!v) return PyErr_Occurred() ? -1 : 0;
    if (!PyUnicode_Check(v)) return 0;
    Py_ssize_t len = PyUnicode_GET_LENGTH(v);
    if (u32_reserve(out, len) < 0) return -1;
    for (Py_ssize_t i = 0; i < len; i++) out->p[out->n++] = PyUnicode_READ_CHAR(v, i);
    return 1;
}

#define ENTITY_NAME_MAX 32

/* html_entity_decode: the _ENTITY regex scanned left to right, replaced as
 * transforms._entity_replacement does. Same return convention as url_decode_uni. */
static int html_entity_decode(const U32Buf *in, U32Buf *out) {
    if (!u32_contains(in->p, in->n, '&')) return 0;
    const uint32_t *t = in->p;
    Py_ssize_t n = in->n, i = 0;
    out->n = 0;
    if (u32_reserve(out, n) < 0) return -1;
    while (i < n) {
        if (t[i] != '&') {
            if (u32_push(out, t[i++]) < 0) return -1;
            continue;
        }
        if (i + 2 < n && t[i + 1] == '#') {
            Py_ssize_t d0, j;
            int base;
            if ((t[i + 2] == 'x' || t[i + 2] == 'X') && i + 3 < n && is_hex(t[i + 3])) {
                d0 = i + 3;
                base = 16;
                for (j = d0; j < n && is_hex(t[j]); j++) {
                }
            } else if (is_ascii_digit(t[i + 2])) {
                d0 = i + 2;
                base = 10;
                for (j = d0; j < n && is_ascii_digit(t[j]); j++) {
                }
            } else {
                if (u32_push(out, t[i++]) < 0) return -1;
                continue;
            }
            Py_ssize_t end = j + (j < n && t[j] == ';');
            int64_t code = char_from_number(t + d0, j - d0, base);
            if ((code >= 0 ? u32_push(out, (uint32_t)code) : u32_extend(out, t + i, end - i)) < 0)
                return -1;
            i = end;
            continue;
        }
        if (i + 1 < n && is_ascii_alpha(t[i + 1])) {
            Py_ssize_t j = i + 2;
            while (j < n && j - (i + 1) < ENTITY_NAME_MAX && is_ascii_alnum(t[j])) j++;
            const uint32_t *name = t + i + 1;
            Py_ssize_t len = j - (i + 1);
            int semi = j < n && t[j] == ';';
            Py_ssize_t end = j + semi;
            if (semi) {
                int found = append_named_entity(name, len, out);
                if (found < 0) return -1;
                if (found) {
                    i = end;
                    continue;
                }
            }
            int done = 0;
            for (Py_ssize_t cut = len; cut > 1 && !done; cut--) {
                int64_t bare = bare_entity(name, cut);
                if (bare < 0) continue;
                if (u32_push(out, (uint32_t)bare) < 0 || u32_extend(out, name + cut, len - cut) < 0 ||
                    (semi && u32_push(out, ';') < 0))
                    return -1;
                done = 1;
            }
            if (!done && u32_extend(out, t + i, end - i) < 0) return -1;
            i = end;
            continue;
        }
        if (u32_push(out, t[i++]) < 0) return -1;
    }
    return !u32_equal(in->p, in->n, out->p, out->n);
}

static inline int is_octal(uint32_t c) { return c >= '0' && c <= '7'; }

/* js_decode: the _JS_ESCAPE regex scanned left to right ("\\\\" kept as a unit). */
static int js_decode(const U32Buf *in, U32Buf *out) {
    if (!u32_contains(in->p, in->n, '\\')) return 0;
    const uint32_t *t = in->p;
    Py_ssize_t n = in->n, i = 0;
    out->n = 0;
    if (u32_reserve(out, n) < 0) return -1;
    while (i < n) {
        if (t[i] != '\\' || i + 1 >= n) {
            out->p[out->n++] = t[i++];
            continue;
        }
        uint32_t c1 = t[i + 1], code = 0;
        Py_ssize_t len = 0;
        if (c1 == '\\') {
            out->p[out->n++] = '\\';
            out->p[out->n++] = '\\';
            i += 2;
            continue;
        }
        if (c1 == 'u' && i + 2 < n && t[i + 2] == '{') {
            Py_ssize_t k = 0;
            while (k < 7 && i + 3 + k < n && is_hex(t[i + 3 + k])) k++;
            if (k >= 1 && k <= 6 && i + 3 + k < n && t[i + 3 + k] == '}') {
                for (Py_ssize_t q = 0; q < k; q++) code = code << 4 | hex_value(t[i + 3 + q]);
                len = 4 + k;
                if (code > 0x10FFFF) { /* kept as written */
                    memcpy(out->p + out->n, t + i, (size_t)len * sizeof(uint32_t));
                    out->n += len;
                    i += len;
                    continue;
                }
            }
        } else if (c1 == 'u') {
            if (i + 5 < n && is_hex(t[i + 2]) && is_hex(t[i + 3]) && is_hex(t[i + 4]) &&
                is_hex(t[i + 5])) {
                code = hex_value(t[i + 2]) << 12 | hex_value(t[i + 3]) << 8 |
                       hex_value(t[i + 4]) << 4 | hex_value(t[i + 5]);
                len = 6;
            }
        } else if (c1 == 'x') {
            if (i + 3 < n && is_hex(t[i + 2]) && is_hex(t[i + 3])) {
                code = hex_value(t[i + 2]) << 4 | hex_value(t[i + 3]);
                len = 4;
            }
        } else if (is_octal(c1)) {
            if (c1 <= '3' && i + 3 < n && is_octal(t[i + 2]) && is_octal(t[i + 3])) {
                code = (c1 - '0') << 6 | (t[i + 2] - '0') << 3 | (t[i + 3] - '0');
                len = 4;
            } else if (i + 2 < n && is_octal(t[i + 2])) {
                code = (c1 - '0') << 3 | (t[i + 2] - '0');
                len = 3;
            }
        }
        if (!len) {
            out->p[out->n++] = t[i++];
            continue;
        }
        out->p[out->n++] = is_surrogate(code) ? 0xFFFD : code;
        i += len;
    }
    return !u32_equal(in->p, in->n, out->p, out->n);
}

/* One decoder step on `text` (scratch `tmp`): the result ends up in `text`. */
static int apply_step(int (*step)(const U32Buf *, U32Buf *, NormScratch *), U32Buf *text,
                      U32Buf *tmp, NormScratch *s) {
    int rc = step(text, tmp, s);
    if (rc > 0) swap_bufs(text, tmp);
    return rc;
}

static int html_step(const U32Buf *in, U32Buf *out, NormScratch *s) {
    (void)s;
    return html_entity_decode(in, out);
}
static int js_step(const U32Buf *in, U32Buf *out, NormScratch *s) {
    (void)s;
    return js_decode(in, out);
}

/* transforms._decode_once: URL, HTML entities, JS escapes, each once. */
static int decode_once(U32Buf *text, U32Buf *tmp, NormScratch *s) {
    if (apply_step(url_decode_uni, text, tmp, s) < 0 || apply_step(html_step, text, tmp, s) < 0 ||
        apply_step(js_step, text, tmp, s) < 0)
        return -1;
    return 0;
}

/* ---------------------------------------------------------------- base64 */

#define B64_MIN_RUN 16
#define B64_MAX_RUN_CHARS 65536
#define B64_MAX_RUNS_EXAMINED 16
#define B64_MAX_APPENDED 4

static inline int is_b64(uint32_t c) {
    return is_ascii_alnum(c) || c == '+' || c == '/' || c == '_' || c == '-';
}

static inline int b64_value(uint32_t c) {
    if (c >= 'A' && c <= 'Z') return (int)(c - 'A');
    if (c >= 'a' && c <= 'z') return (int)(c - 'a') + 26;
    if (c >= '0' && c <= '9') return (int)(c - '0') + 52;
    return c == '+' || c == '-' ? 62 : 63; /* '/' or '_' */
}

/* transforms._decode_b64_run: appends the decoded text to `out` and returns 1 when the
 * run decodes to plausible text, else 0 (out unchanged). */
static int decode_b64_run(const uint32_t *run, Py_ssize_t n, U32Buf *out, ByteBuf *bytes) {
    if (run[n - 1] != '=') {
        int lower = 0, upper = 0, digits = 1;
        for (Py_ssize_t i = 0; i < n; i++) {
            uint32_t c = run[i];
            if (c >= 'a' && c <= 'z') lower = 1;
            else if (c >= 'A' && c <= 'Z') upper = 1;
            if (!is_ascii_digit(c)) digits = 0;
        }
        if ((lower && !upper) || (upper && !lower) || digits) return 0;
    }
    if (n > B64_MAX_RUN_CHARS) n = B64_MAX_RUN_CHARS;
    Py_ssize_t m = 0; /* data characters: the run without '=' */
    for (Py_ssize_t i = 0; i < n; i++) m += run[i] != '=';
    if (m % 4 == 1) m--;
    bytes->n = 0;
    if (bytes_reserve(bytes, m) < 0) return -1;
    unsigned char *d = bytes->p;
    uint32_t acc = 0;
    int bitsn = 0;
    Py_ssize_t used = 0;
    for (Py_ssize_t i = 0; i < n && used < m; i++) {
        if (run[i] == '=') continue;
        acc = (acc << 6) | (uint32_t)b64_value(run[i]);
        bitsn += 6;
        used++;
        if (bitsn >= 8) {
            bitsn -= 8;
            *d++ = (unsigned char)(acc >> bitsn);
            acc &= (1u << bitsn) - 1u;
        }
    }
    bytes->n = d - bytes->p;
    Py_ssize_t start = out->n;
    int ok = utf8_decode_strict(bytes->p, bytes->n, out);
    if (ok <= 0) return ok;
    const uint32_t *text = out->p + start;
    Py_ssize_t len = out->n - start, bad = 0;
    int punct = 0;
    for (Py_ssize_t i = 0; i < len; i++) {
        uint32_t c = text[i];
        if (c <= 0x08 || c == 0x0B || c == 0x0C || (c >= 0x0E && c <= 0x1F) ||
            (c >= 0x7F && c <= 0x9F) || c == 0xFFFD)
            bad++;
        if (c == '_' || !(c < 0x80 ? is_ascii_alnum(c) : Py_UNICODE_ISALNUM(c))) punct = 1;
    }
    if (len == 0 || bad * 10 > len || !punct) {
        out->n = start;
        return 0;
    }
    return 1;
}

/* transforms._base64_texts followed by the append in _chain: " " + _decode_once(text) for
 * each plausible run. */
static int append_base64_texts(U32Buf *text, NormScratch *s) {
    U32Buf *found = &s->extra; /* the decoded texts back to back */
    Py_ssize_t ends[B64_MAX_APPENDED];
    int nfound = 0, examined = 0;
    found->n = 0;
    const Py_ssize_t n = text->n;
    Py_ssize_t i = 0;
    while (i < n && nfound < B64_MAX_APPENDED) {
        if (!is_b64(text->p[i])) {
            i++;
            continue;
        }
        Py_ssize_t start = i;
        while (i < n && is_b64(text->p[i])) i++;
        if (i - start < B64_MIN_RUN) continue;
        for (int pads = 0; pads < 2 && i < n && text->p[i] == '='; pads++) i++;
        if (examined == B64_MAX_RUNS_EXAMINED) break;
        examined++;
        int ok = decode_b64_run(text->p + start, i - start, found, &s->bytes);
        if (ok < 0) return -1;
        if (ok) ends[nfound++] = found->n;
    }
    Py_ssize_t from = 0;
    for (int k = 0; k < nfound; k++) {
        U32Buf *piece = &s->piece;
        piece->n = 0;
        if (u32_extend(piece, found->p + from, ends[k] - from) < 0) return -1;
        from = ends[k];
        if (decode_once(piece, &s->b, s) < 0) return -1;
        if (u32_push(text, ' ') < 0 || u32_extend(text, piece->p, piece->n) < 0) return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- finishers */

/* remove_comments: each C comment (slash-star to star-slash, or to the end when
 * unterminated) becomes one space; the body of a MySQL executable comment (slash-star-bang)
 * is kept between spaces, without its version digits. */
static Py_ssize_t remove_comments(const uint32_t *src, Py_ssize_t n, uint32_t *dst) {
    Py_ssize_t i = 0, w = 0;
    while (i < n) {
        if (src[i] != '/' || i + 1 >= n || src[i + 1] != '*') {
            dst[w++] = src[i++];
            continue;
        }
        Py_ssize_t j = i + 2;
        int bang = j < n && src[j] == '!';
        if (bang) j++;
        Py_ssize_t k = j; /* lazy body: up to the first "*" "/" at or after j */
        while (k + 1 < n && !(src[k] == '*' && src[k + 1] == '/')) k++;
        Py_ssize_t body_end = k + 1 < n ? k : n, next = k + 1 < n ? k + 2 : n;
        dst[w++] = ' ';
        if (bang) {
            while (j < body_end && is_ascii_digit(src[j])) j++;
            memcpy(dst + w, src + j, (size_t)(body_end - j) * sizeof(uint32_t));
            w += body_end - j;
            dst[w++] = ' ';
        }
        i = next;
    }
    return w;
}

/* compress_whitespace: each maximal whitespace run becomes "\n" if it holds '\r' or '\n',
 * else " "; runs at either end are dropped (the two regex passes and strip()). */
static Py_ssize_t compress_whitespace(const uint32_t *src, Py_ssize_t n, uint32_t *dst) {
    Py_ssize_t i = 0, w = 0;
    while (i < n) {
        if (!is_space(src[i])) {
            dst[w++] = src[i++];
            continue;
        }
        Py_ssize_t start = i;
        int newline = 0;
        for (; i < n && is_space(src[i]); i++)
            if (src[i] == '\n' || src[i] == '\r') newline = 1;
        if (start == 0 || i == n) continue;
        dst[w++] = newline ? '\n' : ' ';
    }
    return w;
}

/* unicode_fold, remove_nulls, lowercase, remove_comments, compress_whitespace. */
static int finish(U32Buf *text, NormScratch *s) {
    int star = 0;
    if (u32_max(text->p, text->n) >= 0x80) {
        /* NFKC and full Unicode lowercasing (context-dependent, may change the length)
         * are Python's own */
        if (call_on_text(text, g_nfkc_normalize, NULL) < 0) return -1;
        Py_ssize_t w = 0;
        for (Py_ssize_t i = 0; i < text->n; i++)
            if (text->p[i]) text->p[w++] = text->p[i];
        text->n = w;
        if (call_on_text(text, NULL, g_str_lower) < 0) return -1;
        star = u32_contains(text->p, text->n, '*');
    } else {
        Py_ssize_t w = 0;
        for (Py_ssize_t i = 0; i < text->n; i++) {
            uint32_t c = text->p[i];
            if (!c) continue;
            if (c >= 'A' && c <= 'Z') c += 32;
            star |= c == '*';
            text->p[w++] = c;
        }
        text->n = w;
    }
    /* the result is never longer than the text: a comment of k >= 2 characters becomes at
     * most k characters */
    if (star) {
        s->b.n = 0;
        if (u32_reserve(&s->b, text->n + 2) < 0) return -1;
        s->b.n = remove_comments(text->p, text->n, s->b.p);
        swap_bufs(text, &s->b);
    }
    text->n = compress_whitespace(text->p, text->n, text->p);
    return 0;
}

/* Which of the characters that start a decoder escape occur in the text. */
static int has_escape_chars(const uint32_t *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        if (s[i] == '%' || s[i] == '&' || s[i] == '\\') return 1;
    return 0;
}

/* transforms._is_normal: text the chain provably leaves as it is. */
static int is_normal(const uint32_t *v, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t c = v[i];
        if (c < 0x20 || c > 0x7E || c == '%' || c == '&' || c == '*' || c == '\\' ||
            (c >= 'A' && c <= 'Z'))
            return 0;
        if (c == ' ' && (i == 0 || i == n - 1 || v[i + 1] == ' ')) return 0;
    }
    if (n >= B64_MIN_RUN) {
        Py_ssize_t run = 0;
        for (Py_ssize_t i = 0; i < n; i++) {
            run = is_b64(v[i]) ? run + 1 : 0;
            if (run >= B64_MIN_RUN) return 0;
        }
    }
    return 1;
}

/* transforms.normalize of a str given as code points; the result replaces `out`. */
static int normalize_text(const uint32_t *v, Py_ssize_t n, Py_ssize_t max_chars, int max_depth,
                          NormScratch *s, U32Buf *out) {
    out->n = 0;
    if (is_normal(v, n)) return u32_extend(out, v, n < max_chars ? n : max_chars);
    if (ensure_text_globals() < 0) return -1;
    Py_ssize_t limit = max_chars <= PY_SSIZE_T_MAX / 4 ? 4 * max_chars : PY_SSIZE_T_MAX;
    U32Buf *text = &s->a;
    text->n = 0;
    if (u32_extend(text, v, n < limit ? n : limit) < 0) return -1;
    for (int round = 0; round < max_depth; round++) {
        if (!has_escape_chars(text->p, text->n)) break; /* every decoder returns it as is */
        s->before.n = 0;
        if (u32_extend(&s->before, text->p, text->n) < 0) return -1;
        if (decode_once(text, &s->b, s) < 0) return -1;
        if (u32_equal(text->p, text->n, s->before.p, s->before.n)) break;
    }
    if (append_base64_texts(text, s) < 0 || finish(text, s) < 0) return -1;
    if (text->n > max_chars) text->n = max_chars;
    return u32_extend(out, text->p, text->n);
}

/* normalize(value, max_chars=8192, max_depth=4) -> str */
static PyObject *py_normalize(PyObject *module, PyObject *args, PyObject *kwds) {
    (void)module;
    static char *kwlist[] = {"value", "max_chars", "max_depth", NULL};
    PyObject *value;
    Py_ssize_t max_chars = 8192;
    int max_depth = 4;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "U|ni", kwlist, &value, &max_chars, &max_depth))
        return NULL;
    if (max_chars < 0 || max_depth < 0) {
        PyErr_SetString(PyExc_ValueError, "max_chars and max_depth must be >= 0");
        return NULL;
    }
    NormScratch s = {0};
    U32Buf in = {0}, out = {0};
    PyObject *result = NULL;
    if (unicode_to_u32(value, &in) == 0 &&
        normalize_text(in.p, in.n, max_chars, max_depth, &s, &out) == 0)
        result = u32_to_unicode(out.p, out.n);
    u32_free(&in);
    u32_free(&out);
    norm_scratch_free(&s);
    return result;
}


/* ------------------------------------------------------------------ normalize_simple
 *
 * The common case of bastion/waf/transforms.normalize (the pure-Python chain stays the
 * reference, and tests compare against it). It accepts only text for which the chain
 * provably reduces to its finishers: ASCII, no '%', '&' or '\\' (so the URL, HTML and JS
 * decoders leave it unchanged), and no base64 run that the chain would try to decode.
 * Anything else returns None and Python runs the full chain.
 */

#define NS_STACK 1024

static inline int ns_is_b64(unsigned char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '+' || c == '/' || c == '_' || c == '-';
}

/* Python's str.isspace() (and re's \s) restricted to ASCII. */
static inline int ns_is_space(unsigned char c) {
    return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1C && c <= 0x1F);
}

/* True when some run of >= 16 base64(url) characters would reach the decoder of
 * transforms._decode_b64_run: it is followed by '=', or it is not single-case
 * (str.islower / str.isupper) and not all digits. */
static int ns_b64_suspect(const unsigned char *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    while (i < n) {
        if (!ns_is_b64(s[i])) {
            i++;
            continue;
        }
        Py_ssize_t start = i;
        int lower = 0, upper = 0, nondigit = 0;
        for (; i < n && ns_is_b64(s[i]); i++) {
            unsigned char c = s[i];
            if (c >= 'a' && c <= 'z')
                lower = 1;
            else if (c >= 'A' && c <= 'Z')
                upper = 1;
            if (c < '0' || c > '9') nondigit = 1;
        }
        if (i - start < 16) continue;
        if (i < n && s[i] == '=') return 1;
        int single_case = (lower && !upper) || (upper && !lower);
        if (!single_case && nondigit) return 1;
    }
    return 0;
}

/* remove_comments on src[0:n] into dst (never longer than the input); returns the length. */
static Py_ssize_t ns_remove_comments(const unsigned char *src, Py_ssize_t n, unsigned char *dst) {
    Py_ssize_t i = 0, w = 0;
    while (i < n) {
        if (src[i] != '/' || i + 1 >= n || src[i + 1] != '*') {
            dst[w++] = src[i++];
            continue;
        }
        Py_ssize_t j = i + 2;
        int bang = j < n && src[j] == '!';
        if (bang) j++;
        /* lazy body: up to the first "*" "/" at or after j, else to the end */
        Py_ssize_t k = j;
        while (k + 1 < n && !(src[k] == '*' && src[k + 1] == '/')) k++;
        Py_ssize_t body_end, next;
        if (k + 1 < n) {
            body_end = k;
            next = k + 2;
        } else {
            body_end = n;
            next = n;
        }
        dst[w++] = ' ';
        if (bang) {
            while (j < body_end && src[j] >= '0' && src[j] <= '9') j++;
            memcpy(dst + w, src + j, (size_t)(body_end - j));
            w += body_end - j;
            dst[w++] = ' ';
        }
        i = next;
    }
    return w;
}

/* compress_whitespace: each maximal whitespace run becomes "\n" if it holds '\r' or '\n',
 * else " "; runs at either end are dropped (strip). */
static Py_ssize_t ns_compress_ws(const unsigned char *src, Py_ssize_t n, unsigned char *dst) {
    Py_ssize_t i = 0, w = 0;
    while (i < n) {
        if (!ns_is_space(src[i])) {
            dst[w++] = src[i++];
            continue;
        }
        Py_ssize_t start = i;
        int newline = 0;
        for (; i < n && ns_is_space(src[i]); i++)
            if (src[i] == '\n' || src[i] == '\r') newline = 1;
        if (start == 0 || i == n) continue;
        dst[w++] = newline ? '\n' : ' ';
    }
    return w;
}

/* normalize_simple(value: str, max_chars: int) -> str | None */
static PyObject *normalize_simple(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "normalize_simple() takes exactly 2 arguments");
        return NULL;
    }
    PyObject *value = args[0];
    if (!PyUnicode_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "normalize_simple() argument 1 must be str");
        return NULL;
    }
    if (!PyLong_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "normalize_simple() argument 2 must be int");
        return NULL;
    }
    Py_ssize_t max_chars = PyLong_AsSsize_t(args[1]);
    if (max_chars == -1 && PyErr_Occurred()) {
        PyErr_Clear(); /* out of range: let Python handle it */
        Py_RETURN_NONE;
    }
    if (max_chars < 0) Py_RETURN_NONE;
#if PY_VERSION_HEX < 0x030C0000
    if (PyUnicode_READY(value) < 0) return NULL;
#endif
    if (!PyUnicode_IS_ASCII(value)) Py_RETURN_NONE;
    Py_ssize_t n = PyUnicode_GET_LENGTH(value);
    if (max_chars <= PY_SSIZE_T_MAX / 4 && n > 4 * max_chars) Py_RETURN_NONE;
    const unsigned char *s = PyUnicode_1BYTE_DATA(value);
    if (memchr(s, '%', (size_t)n) || memchr(s, '&', (size_t)n) || memchr(s, '\\', (size_t)n))
        Py_RETURN_NONE;
    if (n >= 16 && ns_b64_suspect(s, n)) Py_RETURN_NONE;

    unsigned char stack[2 * NS_STACK];
    unsigned char *a = stack;
    if (n > NS_STACK) {
        a = (unsigned char *)PyMem_Malloc(2 * (size_t)n);
        if (!a) return PyErr_NoMemory();
    }
    unsigned char *b = a + (n > NS_STACK ? n : NS_STACK);

    /* remove_nulls + lowercase (ASCII) */
    Py_ssize_t m = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        if (c == 0) continue;
        a[m++] = (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
    }
    const unsigned char *cur = a;
    if (m >= 2 && memchr(a, '*', (size_t)m)) {
        m = ns_remove_comments(a, m, b);
        cur = b;
    }
    unsigned char *out_buf = cur == a ? b : a;
    m = ns_compress_ws(cur, m, out_buf);
    if (m > max_chars) m = max_chars;

    PyObject *out = PyUnicode_New(m, 127);
    if (out) memcpy(PyUnicode_1BYTE_DATA(out), out_buf, (size_t)m);
    if (a != stack) PyMem_Free(a);
    return out;
}

static PyMethodDef module_methods[] = {
    {"normalize", (PyCFunction)(void (*)(void))py_normalize, METH_VARARGS | METH_KEYWORDS,
     "normalize(value, max_chars=8192, max_depth=4) -> str\n\n"
     "transforms.normalize (the whole decoding chain) in C."},
    {"normalize_simple", (PyCFunction)(void (*)(void))normalize_simple, METH_FASTCALL,
     "normalize_simple(value, max_chars, /) -> str | None\n\n"
     "transforms.normalize for plain ASCII text (no %, &, \\\\ or base64 run the chain would "
     "decode); None for anything else."},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_fastpath",
    .m_doc = "C accelerator for the WAF scorer.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC PyInit__fastpath(void) {
    if (PyType_Ready(&EngineType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    if (PyModule_AddType(m, &EngineType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
