/*
 * C accelerator for bastion's WAF scorer.
 *
 * Everything here re-implements, exactly, Python code that stays the readable reference
 * (tests compare the two on generated and hostile input):
 *
 *   Engine            features.featurize + the forward pass of model.Model
 *   normalize         transforms.normalize (the decoding chain)
 *   Grammar           re fullmatch of the well-formed-header grammars, as DFAs
 *   Pipeline          inputs.extract_inputs + the per-input loop of scorer.Scorer
 *   normalize_simple  the ASCII-only shortcut transforms.normalize uses
 *
 * Where exact re-implementation would mean copying a large or subtle piece of CPython
 * (full Unicode case mapping, NFKC, the JSON scanner, the UTF-8 error handler, regex
 * syntax outside a small subset, multipart parsing), the C code calls the very same
 * Python-level function the reference calls, so both paths agree by construction.
 *
 * The file is in sections: buffers, featurizer and model, text helpers, transforms,
 * header grammars, input extraction, the scoring pipeline, normalize_simple, module
 * definition. All work runs with the GIL held; per-call state lives in per-call
 * structures because a call back into Python may let another thread enter the same
 * object.
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

static int u32_extend_ascii(U32Buf *b, const char *s) {
    Py_ssize_t n = (Py_ssize_t)strlen(s);
    if (u32_reserve(b, n) < 0) return -1;
    for (Py_ssize_t i = 0; i < n; i++) b->p[b->n++] = (unsigned char)s[i];
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
    /* Stamps of the buckets already emitted in the current window (see featurize). */
    struct BucketStamps *stamps;
} Engine;

/* One stamp per bucket: a bucket was emitted in the current window when its stamp equals
 * `gen`. Bumping `gen` starts a new window in O(1); the table is cleared when it wraps. */
typedef struct BucketStamps {
    uint16_t gen;
    uint16_t stamp[];
} BucketStamps;

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
    Py_ssize_t i0 = 0;
    for (; i0 + CHAR_MAX_N <= nc; i0++) { /* every n of 1..5 fits: straight-line code */
        const uint32_t *c = chars + i0;
        uint32_t h = ((FNV_OFFSET ^ SEED_CHAR) ^ c[0]) * FNV_PRIME;
        out[no] = mix32(h) & mask;
        h = (h ^ c[1]) * FNV_PRIME;
        out[no + 1] = mix32(h) & mask;
        h = (h ^ c[2]) * FNV_PRIME;
        out[no + 2] = mix32(h) & mask;
        h = (h ^ c[3]) * FNV_PRIME;
        out[no + 3] = mix32(h) & mask;
        h = (h ^ c[4]) * FNV_PRIME;
        out[no + 4] = mix32(h) & mask;
        no += CHAR_MAX_N;
    }
    for (; i0 < nc; i0++) { /* the last positions: shorter n-grams only */
        uint32_t h = FNV_OFFSET ^ SEED_CHAR;
        for (Py_ssize_t j = i0; j < nc; j++) {
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
    /* Each bucket once per window, in first-occurrence order: with sum pooling, a window
     * of one pattern repeated (CSV rows, base64 of zeros, "ab ab ab") would otherwise weigh
     * sqrt(repeats) times the pattern seen once and saturate a head. */
    BucketStamps *st = e->stamps;
    if (++st->gen == 0) {
        memset(st->stamp, 0, ((size_t)mask + 1) * sizeof(uint16_t));
        st->gen = 1;
    }
    const uint16_t gen = st->gen;
    Py_ssize_t kept = 0;
    for (Py_ssize_t k = 0; k < no; k++) {
        uint32_t id = out[k];
        if (st->stamp[id] != gen) {
            st->stamp[id] = gen;
            out[kept++] = id;
        }
    }
    f->n = kept;
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
#define ADD_ROW(i)                                                                     \
    do {                                                                               \
        const __m128i *row = (const __m128i *)(emb + (size_t)ids[i] * 32);             \
        a0 = _mm256_add_ps(a0, _mm256_cvtph_ps(_mm_load_si128(row)));                  \
        a1 = _mm256_add_ps(a1, _mm256_cvtph_ps(_mm_load_si128(row + 1)));              \
        a2 = _mm256_add_ps(a2, _mm256_cvtph_ps(_mm_load_si128(row + 2)));              \
        a3 = _mm256_add_ps(a3, _mm256_cvtph_ps(_mm_load_si128(row + 3)));              \
    } while (0)
    Py_ssize_t i = 0;
    for (; i + PREFETCH_AHEAD < n; i++) {
        _mm_prefetch((const char *)(emb + (size_t)ids[i + PREFETCH_AHEAD] * 32), _MM_HINT_T0);
        ADD_ROW(i);
    }
    for (; i < n; i++) ADD_ROW(i);
#undef ADD_ROW
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

#if FP_X86
/* Whether every float survives float -> half -> float unchanged (so it is a half float),
 * and the halves; 8 at a time with the conversions the kernel itself uses. */
__attribute__((target("avx2,f16c"))) static int to_half_exact(const float *f, uint16_t *h,
                                                              size_t count) {
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        __m256 x = _mm256_loadu_ps(f + i);
        __m128i half = _mm256_cvtps_ph(x, _MM_FROUND_TO_NEAREST_INT);
        __m256 back = _mm256_cvtph_ps(half);
        __m256i diff = _mm256_xor_si256(_mm256_castps_si256(x), _mm256_castps_si256(back));
        if (!_mm256_testz_si256(diff, diff)) return 0;
        _mm_store_si128((__m128i *)(h + i), half);
    }
    for (; i < count; i++) { /* count is a multiple of 32 in practice */
        float one[8] = {f[i]};
        __m128i half = _mm256_cvtps_ph(_mm256_loadu_ps(one), _MM_FROUND_TO_NEAREST_INT);
        float back[8];
        _mm256_storeu_ps(back, _mm256_cvtph_ps(half));
        if (memcmp(&back[0], &f[i], sizeof(float)) != 0) return 0;
        h[i] = (uint16_t)_mm_extract_epi16(half, 0);
    }
    return 1;
}
#endif

/* Keep the table as halves, read straight from the caller's float32 buffer, when that
 * loses nothing and a half kernel exists (never holding a float copy as well: freeing it
 * would not give the memory back to the system). 1 when done, 0 when not. */
static int engine_try_half_table(Engine *self, const float *src, size_t count, int allow) {
#if FP_X86
    if (!allow || self->hidden != 32 || !cpu_has_f16_kernel()) return 0;
    void *raw = PyMem_RawMalloc(count * sizeof(uint16_t) + 64);
    if (!raw) return 0; /* the float table still works */
    uint16_t *h = (uint16_t *)(((uintptr_t)raw + 63) & ~(uintptr_t)63);
    if (!to_half_exact(src, h, count)) {
        PyMem_RawFree(raw);
        return 0;
    }
    self->emb16 = h;
    self->emb16_raw = raw;
    return 1;
#else
    (void)self;
    (void)src;
    (void)count;
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
    PyMem_RawFree(self->stamps);
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
    self->stamps = (BucketStamps *)PyMem_RawCalloc(
        1, sizeof(BucketStamps) + ((size_t)1 << bits) * sizeof(uint16_t));
    if (!self->stamps) {
        PyErr_NoMemory();
        return -1;
    }
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
        size_t count = ((size_t)1 << bits) * (size_t)hidden;
        self->b1 = (float *)PyMem_RawMalloc((size_t)hidden * sizeof(float));
        self->w2 = (float *)PyMem_RawMalloc((size_t)hidden * N_HEADS * sizeof(float));
        if (!self->b1 || !self->w2) {
            PyErr_NoMemory();
            return -1;
        }
        if (copy_floats(b1, self->b1, hidden, "b1") < 0 ||
            copy_floats(w2, self->w2, (Py_ssize_t)hidden * N_HEADS, "w2") < 0 ||
            copy_floats(b2, self->b2, N_HEADS, "b2") < 0)
            return -1;
        Py_buffer view;
        if (PyObject_GetBuffer(emb, &view, PyBUF_C_CONTIGUOUS) < 0) return -1;
        if (view.len != (Py_ssize_t)(count * sizeof(float))) {
            PyErr_Format(PyExc_ValueError, "emb: expected %zd float32 values, got %zd bytes",
                         (Py_ssize_t)count, view.len);
            PyBuffer_Release(&view);
            return -1;
        }
        if (!engine_try_half_table(self, (const float *)view.buf, count, half)) {
            self->emb = (float *)PyMem_RawMalloc(count * sizeof(float));
            if (!self->emb) {
                PyBuffer_Release(&view);
                PyErr_NoMemory();
                return -1;
            }
            memcpy(self->emb, view.buf, count * sizeof(float));
        }
        PyBuffer_Release(&view);
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

static uint8_t ch_class[128]; /* CH_* bits, filled at module init */
enum { CH_B64 = 1, CH_ESCAPE = 2 };

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
 * each plausible run. Raises *maxc to the largest code point appended. */
static int append_base64_texts(U32Buf *text, NormScratch *s, uint32_t *maxc) {
    U32Buf *found = &s->extra; /* the decoded texts back to back */
    Py_ssize_t ends[B64_MAX_APPENDED];
    int nfound = 0, examined = 0;
    found->n = 0;
    const Py_ssize_t n = text->n;
    Py_ssize_t i = 0;
#define B64_AT(k) (text->p[k] < 128 && (ch_class[text->p[k]] & CH_B64))
    while (i < n && nfound < B64_MAX_APPENDED) {
        if (!B64_AT(i)) {
            i++;
            continue;
        }
        Py_ssize_t start = i;
        while (i < n && B64_AT(i)) i++;
        if (i - start < B64_MIN_RUN) continue;
        for (int pads = 0; pads < 2 && i < n && text->p[i] == '='; pads++) i++;
        if (examined == B64_MAX_RUNS_EXAMINED) break;
        examined++;
        int ok = decode_b64_run(text->p + start, i - start, found, &s->bytes);
        if (ok < 0) return -1;
        if (ok) ends[nfound++] = found->n;
    }
#undef B64_AT
    Py_ssize_t from = 0;
    for (int k = 0; k < nfound; k++) {
        U32Buf *piece = &s->piece;
        piece->n = 0;
        if (u32_extend(piece, found->p + from, ends[k] - from) < 0) return -1;
        from = ends[k];
        if (decode_once(piece, &s->b, s) < 0) return -1;
        uint32_t m = u32_max(piece->p, piece->n);
        if (m > *maxc) *maxc = m;
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

/* unicode_fold, remove_nulls, lowercase, remove_comments, compress_whitespace; `maxc` is
 * the largest code point of the text. */
static int finish(U32Buf *text, NormScratch *s, uint32_t maxc) {
    int star = 0, spaces = 1; /* spaces: compress_whitespace may change the text */
    if (maxc >= 0x80) {
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
        uint32_t prev = ' '; /* a leading space counts as a run to drop */
        spaces = 0;
        for (Py_ssize_t i = 0; i < text->n; i++) {
            uint32_t c = text->p[i];
            if (!c) continue;
            if (c >= 'A' && c <= 'Z') c += 32;
            star |= c == '*';
            /* only single spaces between other characters survive compression as is */
            spaces |= is_ascii_space(c) && (c != ' ' || prev == ' ');
            prev = c;
            text->p[w++] = c;
        }
        text->n = w;
        spaces |= prev == ' ';
    }
    /* the result is never longer than the text: a comment of k >= 2 characters becomes at
     * most k characters */
    if (star) {
        s->b.n = 0;
        if (u32_reserve(&s->b, text->n + 2) < 0) return -1;
        s->b.n = remove_comments(text->p, text->n, s->b.p);
        swap_bufs(text, &s->b);
    }
    if (spaces || star) text->n = compress_whitespace(text->p, text->n, text->p);
    return 0;
}

/* What the steps of the chain need to know about a text, in one pass. */
typedef struct {
    int escapes;  /* a '%', '&' or '\\' (a decoder may change the text) */
    int b64;      /* a run of B64_MIN_RUN base64 characters (a candidate to decode) */
    uint32_t max; /* largest code point */
} TextFacts;

static void init_char_classes(void) {
    for (uint32_t c = 0; c < 128; c++)
        ch_class[c] = (uint8_t)((is_b64(c) ? CH_B64 : 0) |
                                (c == '%' || c == '&' || c == '\\' ? CH_ESCAPE : 0));
}

static TextFacts text_facts(const uint32_t *s, Py_ssize_t n) {
    TextFacts f = {0, 0, 0};
    Py_ssize_t run = 0;
    unsigned esc = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t c = s[i];
        unsigned k = c < 128 ? ch_class[c] : 0;
        esc |= k;
        if (c > f.max) f.max = c;
        run = (k & CH_B64) ? run + 1 : 0;
        if (run >= B64_MIN_RUN) f.b64 = 1;
    }
    f.escapes = (esc & CH_ESCAPE) != 0;
    return f;
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
    TextFacts f = text_facts(text->p, text->n);
    for (int round = 0; round < max_depth && f.escapes; round++) {
        /* without '%', '&' or '\\' every decoder returns the text as is */
        s->before.n = 0;
        if (u32_extend(&s->before, text->p, text->n) < 0) return -1;
        if (decode_once(text, &s->b, s) < 0) return -1;
        if (u32_equal(text->p, text->n, s->before.p, s->before.n)) break;
        f = text_facts(text->p, text->n);
    }
    uint32_t maxc = f.max;
    if ((f.b64 && append_base64_texts(text, s, &maxc) < 0) || finish(text, s, maxc) < 0)
        return -1;
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


/* ==================================================================== header grammars */

/* The well-formed-header test is pattern.fullmatch(value). For a regex without
 * backreferences, lookaround or anchors that is membership in a regular language: how re
 * backtracks decides which match it reports, never whether one exists. So a DFA built
 * from the pattern's source answers exactly alike, in one table step per character.
 * Patterns outside the small syntax accepted here keep calling re.
 *
 * Character semantics are those of re on str patterns without flags: \d is
 * str.isdecimal, \w str.isalnum or '_', \s str.isspace, '.' anything but '\n'. */

#define GR_MAX_SETS 64      /* distinct character sets in one pattern */
#define GR_MAX_NFA 8192     /* NFA states after expanding counted repeats */
#define GR_MAX_DFA 4096     /* DFA states */
#define GR_MAX_DEPTH 32     /* group nesting */
#define GR_MAX_SOURCE 1024  /* pattern length (bounds the recursion over the syntax tree) */

/* Category bits of a set, for characters outside ASCII. */
enum { CAT_D = 1, CAT_W = 2, CAT_S = 4, CAT_ND = 8, CAT_NW = 16, CAT_NS = 32 };

typedef struct {
    uint8_t ascii[16]; /* membership of 0..127 */
    uint8_t cats;      /* categories admitted among non-ASCII characters */
    uint8_t negated, dot;
} CharSet;

static int set_has(const CharSet *s, uint32_t c) {
    int in;
    if (c < 128) {
        in = (s->ascii[c >> 3] >> (c & 7)) & 1;
    } else if (s->dot) {
        in = 1;
    } else {
        int d = Py_UNICODE_ISDECIMAL(c), w = Py_UNICODE_ISALNUM(c) || c == '_';
        int sp = Py_UNICODE_ISSPACE(c);
        in = ((s->cats & CAT_D) && d) || ((s->cats & CAT_W) && w) || ((s->cats & CAT_S) && sp) ||
             ((s->cats & CAT_ND) && !d) || ((s->cats & CAT_NW) && !w) || ((s->cats & CAT_NS) && !sp);
    }
    return s->dot ? in : in ^ s->negated;
}

static void set_add(CharSet *s, uint32_t c) { s->ascii[c >> 3] |= (uint8_t)(1u << (c & 7)); }

/* \d \w \s and their negations: the ASCII members and the category bit. */
static void set_add_category(CharSet *s, uint32_t esc) {
    for (uint32_t c = 0; c < 128; c++) {
        int d = is_ascii_digit(c), w = is_ascii_alnum(c) || c == '_', sp = is_ascii_space(c);
        int in = esc == 'd' ? d : esc == 'w' ? w : esc == 's' ? sp
               : esc == 'D' ? !d : esc == 'W' ? !w : !sp;
        if (in) set_add(s, c);
    }
    s->cats |= esc == 'd' ? CAT_D : esc == 'w' ? CAT_W : esc == 's' ? CAT_S
             : esc == 'D' ? CAT_ND : esc == 'W' ? CAT_NW : CAT_NS;
}

/* Syntax tree of the accepted subset. */
typedef enum { RX_SET, RX_CAT, RX_ALT, RX_REPEAT, RX_EMPTY } RxKind;

typedef struct RxNode {
    RxKind kind;
    int set;              /* RX_SET */
    struct RxNode *a, *b; /* RX_CAT, RX_ALT: both; RX_REPEAT: a */
    int min, max;         /* RX_REPEAT; max -1: unbounded */
} RxNode;

typedef struct {
    const uint32_t *p;
    Py_ssize_t n, i;
    CharSet sets[GR_MAX_SETS];
    int n_sets;
    RxNode *nodes;
    int n_nodes, cap_nodes;
    int depth;
    int bad; /* syntax outside the subset (or a resource bound hit) */
} RxParser;

static RxNode *rx_node(RxParser *ps, RxKind kind) {
    if (ps->n_nodes == ps->cap_nodes) {
        ps->bad = 1;
        return NULL;
    }
    RxNode *n = &ps->nodes[ps->n_nodes++];
    memset(n, 0, sizeof *n);
    n->kind = kind;
    return n;
}

static int rx_new_set(RxParser *ps) {
    if (ps->n_sets == GR_MAX_SETS) {
        ps->bad = 1;
        return -1;
    }
    memset(&ps->sets[ps->n_sets], 0, sizeof(CharSet));
    return ps->n_sets++;
}

static int rx_peek(RxParser *ps) { return ps->i < ps->n ? (int)ps->p[ps->i] : -1; }

/* An escape after '\': a literal or category into `set`; 0 when outside the subset. */
static int rx_escape(RxParser *ps, CharSet *set) {
    if (ps->i >= ps->n) return 0;
    uint32_t e = ps->p[ps->i++];
    if (strchr("dwsDWS", (int)e) && e < 128) {
        set_add_category(set, e);
        return 1;
    }
    uint32_t lit;
    switch (e) {
    case 'n': lit = '\n'; break;
    case 't': lit = '\t'; break;
    case 'r': lit = '\r'; break;
    case 'f': lit = '\f'; break;
    case 'v': lit = '\v'; break;
    default:
        if (e >= 128 || is_ascii_alnum(e)) return 0; /* \b, \A, \1, \x.. ... */
        lit = e;
    }
    set_add(set, lit);
    return 1;
}

/* [...] after the '[' */
static RxNode *rx_class(RxParser *ps) {
    int id = rx_new_set(ps);
    if (id < 0) return NULL;
    CharSet *set = &ps->sets[id];
    if (rx_peek(ps) == '^') {
        set->negated = 1;
        ps->i++;
    }
    int first = 1;
    for (;;) {
        int c = rx_peek(ps);
        if (c < 0 || c >= 128) return ps->bad = 1, NULL;
        if (c == ']' && !first) {
            ps->i++;
            break;
        }
        first = 0;
        ps->i++;
        if (c == '[') return ps->bad = 1, NULL; /* nested-set syntax */
        uint32_t lo = (uint32_t)c;
        if (c == '\\') {
            CharSet one = {{0}, 0, 0, 0};
            if (!rx_escape(ps, &one)) return ps->bad = 1, NULL;
            if (one.cats) { /* a category cannot start a range */
                for (int k = 0; k < 16; k++) set->ascii[k] |= one.ascii[k];
                set->cats |= one.cats;
                continue;
            }
            for (lo = 0; lo < 128 && !((one.ascii[lo >> 3] >> (lo & 7)) & 1); lo++) {
            }
        }
        if (rx_peek(ps) == '-' && ps->i + 1 < ps->n && ps->p[ps->i + 1] != ']') {
            ps->i++;
            int hi = rx_peek(ps);
            if (hi < 0 || hi >= 128 || hi == '[') return ps->bad = 1, NULL;
            ps->i++;
            if (hi == '\\') { /* an escaped literal ends the range; a category cannot */
                CharSet one = {{0}, 0, 0, 0};
                if (!rx_escape(ps, &one) || one.cats) return ps->bad = 1, NULL;
                for (hi = 0; hi < 128 && !((one.ascii[hi >> 3] >> (hi & 7)) & 1); hi++) {
                }
            }
            if ((uint32_t)hi < lo) return ps->bad = 1, NULL;
            for (uint32_t k = lo; k <= (uint32_t)hi; k++) set_add(set, k);
        } else {
            set_add(set, lo);
        }
    }
    RxNode *n = rx_node(ps, RX_SET);
    if (n) n->set = id;
    return n;
}

static RxNode *rx_alt(RxParser *ps);

static int rx_number(RxParser *ps, int *out) {
    int v = 0, digits = 0;
    while (rx_peek(ps) >= '0' && rx_peek(ps) <= '9') {
        v = v * 10 + (int)(ps->p[ps->i++] - '0');
        if (v > GR_MAX_NFA) return -1;
        digits++;
    }
    *out = v;
    return digits;
}

static RxNode *rx_atom(RxParser *ps) {
    int c = rx_peek(ps);
    if (c < 0 || c >= 128) return ps->bad = 1, NULL; /* non-ASCII literals: not needed */
    ps->i++;
    if (c == '(') {
        if (rx_peek(ps) == '?') { /* only (?:...) */
            if (ps->i + 1 >= ps->n || ps->p[ps->i + 1] != ':') return ps->bad = 1, NULL;
            ps->i += 2;
        }
        if (++ps->depth > GR_MAX_DEPTH) return ps->bad = 1, NULL;
        RxNode *inner = rx_alt(ps);
        ps->depth--;
        if (!inner || rx_peek(ps) != ')') return ps->bad = 1, NULL;
        ps->i++;
        return inner;
    }
    if (c == '[') return rx_class(ps);
    if (c == ')' || c == '|' || c == '*' || c == '+' || c == '?' || c == '{' || c == '^' ||
        c == '$')
        return ps->bad = 1, NULL;
    int id = rx_new_set(ps);
    if (id < 0) return NULL;
    CharSet *set = &ps->sets[id];
    if (c == '.') {
        set->dot = 1;
        for (uint32_t k = 0; k < 128; k++)
            if (k != '\n') set_add(set, k);
    } else if (c == '\\') {
        if (!rx_escape(ps, set)) return ps->bad = 1, NULL;
    } else {
        set_add(set, (uint32_t)c);
    }
    RxNode *n = rx_node(ps, RX_SET);
    if (n) n->set = id;
    return n;
}

/* atom followed by quantifiers (greedy only; lazy and possessive forms are refused) */
static RxNode *rx_repeat(RxParser *ps) {
    RxNode *atom = rx_atom(ps);
    while (atom) {
        int c = rx_peek(ps), min, max;
        if (c == '*') min = 0, max = -1;
        else if (c == '+') min = 1, max = -1;
        else if (c == '?') min = 0, max = 1;
        else if (c == '{') {
            ps->i++;
            int dm = rx_number(ps, &min);
            if (dm < 0) return ps->bad = 1, NULL;
            if (rx_peek(ps) == ',') {
                ps->i++;
                int dn = rx_number(ps, &max);
                if (dn < 0) return ps->bad = 1, NULL;
                if (!dn) max = -1;
            } else {
                if (!dm) return ps->bad = 1, NULL; /* "{" as a literal: refuse */
                max = min;
            }
            if (rx_peek(ps) != '}' || (max >= 0 && max < min)) return ps->bad = 1, NULL;
            c = '}';
        } else {
            break;
        }
        ps->i++;
        if (rx_peek(ps) == '?' || rx_peek(ps) == '+') return ps->bad = 1, NULL;
        RxNode *r = rx_node(ps, RX_REPEAT);
        if (!r) return NULL;
        r->a = atom;
        r->min = min;
        r->max = max;
        atom = r;
    }
    return atom;
}

static RxNode *rx_seq(RxParser *ps) {
    RxNode *seq = rx_node(ps, RX_EMPTY);
    while (seq && ps->i < ps->n && rx_peek(ps) != '|' && rx_peek(ps) != ')') {
        RxNode *item = rx_repeat(ps);
        if (!item) return NULL;
        RxNode *cat = rx_node(ps, RX_CAT);
        if (!cat) return NULL;
        cat->a = seq;
        cat->b = item;
        seq = cat;
    }
    return seq;
}

static RxNode *rx_alt(RxParser *ps) {
    RxNode *left = rx_seq(ps);
    while (left && rx_peek(ps) == '|') {
        ps->i++;
        RxNode *right = rx_seq(ps);
        if (!right) return NULL;
        RxNode *alt = rx_node(ps, RX_ALT);
        if (!alt) return NULL;
        alt->a = left;
        alt->b = right;
        left = alt;
    }
    return left;
}

/* Thompson NFA: a state reads one set (then goes to out1) or splits to out1/out2 without
 * reading; state 0 is the match state. */
typedef struct {
    int set; /* -1: epsilon split */
    int out1, out2;
} NfaState;

typedef struct {
    NfaState *s;
    int n, cap;
    int bad;
} Nfa;

static int nfa_state(Nfa *nfa, int set, int out1, int out2) {
    if (nfa->n == nfa->cap) {
        nfa->bad = 1;
        return 0;
    }
    nfa->s[nfa->n] = (NfaState){set, out1, out2};
    return nfa->n++;
}

/* States for `node` leading to `next`; returns the entry state. Built back to front, so
 * no patching is needed. */
static int nfa_build(Nfa *nfa, const RxNode *node, int next) {
    if (nfa->bad) return 0;
    switch (node->kind) {
    case RX_EMPTY:
        return next;
    case RX_SET:
        return nfa_state(nfa, node->set, next, -1);
    case RX_CAT:
        return nfa_build(nfa, node->a, nfa_build(nfa, node->b, next));
    case RX_ALT:
        return nfa_state(nfa, -1, nfa_build(nfa, node->a, next), nfa_build(nfa, node->b, next));
    case RX_REPEAT: {
        int entry = next;
        if (node->max < 0) { /* a* : split -> (a -> split) | next */
            int loop = nfa_state(nfa, -1, -1, next);
            if (nfa->bad) return 0;
            nfa->s[loop].out1 = nfa_build(nfa, node->a, loop);
            entry = loop;
        } else {
            for (int k = node->min; k < node->max; k++) /* optional copies, nested */
                entry = nfa_state(nfa, -1, nfa_build(nfa, node->a, entry), next);
        }
        for (int k = 0; k < node->min; k++) entry = nfa_build(nfa, node->a, entry);
        return entry;
    }
    }
    return 0;
}

/* A compiled grammar: DFA over character classes; state 0 rejects forever. */
typedef struct {
    int n_classes, n_states, start;
    uint8_t ascii_class[128];
    uint8_t uni_class[8]; /* by (isdecimal, isalnum or _, isspace) of a non-ASCII char */
    int32_t *next;        /* n_states x n_classes */
    uint8_t *accept;
} Dfa;

static void dfa_free(Dfa *d) {
    if (!d) return;
    PyMem_Free(d->next);
    PyMem_Free(d->accept);
    PyMem_Free(d);
}

/* Scratch of the subset construction, sized by the NFA. */
typedef struct {
    int *stack;   /* 3 * n + 2: seeds, then two pushes per state expanded once */
    int *visited; /* n */
    uint8_t *mark;
} Closure;

/* Epsilon closure of `seeds` into the sorted, deduplicated `out` (reading states and the
 * match state only). */
static int nfa_closure(const Nfa *nfa, const int *seeds, int n_seeds, Closure *cl, int *out) {
    int sp = 0, n = 0, nv = 0;
    for (int k = 0; k < n_seeds; k++) cl->stack[sp++] = seeds[k];
    while (sp) {
        int s = cl->stack[--sp];
        if (s < 0 || cl->mark[s]) continue;
        cl->mark[s] = 1;
        cl->visited[nv++] = s;
        const NfaState *st = &nfa->s[s];
        if (s == 0 || st->set >= 0) {
            out[n++] = s;
        } else {
            cl->stack[sp++] = st->out1;
            cl->stack[sp++] = st->out2;
        }
    }
    for (int k = 0; k < nv; k++) cl->mark[cl->visited[k]] = 0;
    /* insertion sort: the sets are small */
    for (int a = 1; a < n; a++)
        for (int b = a; b > 0 && out[b - 1] > out[b]; b--) {
            int t = out[b];
            out[b] = out[b - 1];
            out[b - 1] = t;
        }
    return n;
}

/* Subset construction. Returns a DFA, or NULL: no exception when it grows past the
 * bounds (the pattern stays with re), MemoryError otherwise. */
static Dfa *dfa_build(const Nfa *nfa, int entry, const CharSet *sets, int n_sets) {
    Dfa *d = (Dfa *)PyMem_Calloc(1, sizeof(Dfa));
    Closure cl;
    cl.stack = (int *)PyMem_Malloc((size_t)(3 * nfa->n + 2) * sizeof(int));
    cl.visited = (int *)PyMem_Malloc((size_t)nfa->n * sizeof(int));
    cl.mark = (uint8_t *)PyMem_Calloc((size_t)nfa->n, 1);
    int *tmp = (int *)PyMem_Malloc((size_t)(nfa->n + 1) * sizeof(int));
    int *seeds = (int *)PyMem_Malloc((size_t)(nfa->n + 1) * sizeof(int));
    /* DFA states as NFA-state lists, concatenated, and a hash index over them */
    int *items = NULL, *offsets = (int *)PyMem_Malloc((GR_MAX_DFA + 2) * sizeof(int));
    int32_t *index = (int32_t *)PyMem_Calloc(2 * GR_MAX_DFA, sizeof(int32_t));
    Py_ssize_t n_items = 0, cap_items = 0;
    int ok = 0;
    if (!d || !cl.stack || !cl.visited || !cl.mark || !tmp || !seeds || !offsets || !index) {
        PyErr_NoMemory();
        goto done;
    }
    /* character classes: characters that every set treats alike */
    uint64_t sigs[128 + 8];
    for (int c = 0; c < 128 + 8; c++) {
        uint64_t sig = 0;
        for (int s = 0; s < n_sets; s++) {
            int in;
            if (c < 128) {
                in = set_has(&sets[s], (uint32_t)c);
            } else { /* a representative-free evaluation of the category triple */
                int t = c - 128, dd = t & 1, ww = (t >> 1) & 1, sp = (t >> 2) & 1;
                const CharSet *cs = &sets[s];
                if (cs->dot) {
                    in = 1;
                } else {
                    in = ((cs->cats & CAT_D) && dd) || ((cs->cats & CAT_W) && ww) ||
                         ((cs->cats & CAT_S) && sp) || ((cs->cats & CAT_ND) && !dd) ||
                         ((cs->cats & CAT_NW) && !ww) || ((cs->cats & CAT_NS) && !sp);
                    in ^= cs->negated;
                }
            }
            if (in) sig |= (uint64_t)1 << s;
        }
        sigs[c] = sig;
    }
    uint64_t class_sig[128 + 8];
    int n_classes = 0;
    for (int c = 0; c < 128 + 8; c++) {
        int k = 0;
        while (k < n_classes && class_sig[k] != sigs[c]) k++;
        if (k == n_classes) class_sig[n_classes++] = sigs[c];
        if (c < 128) d->ascii_class[c] = (uint8_t)k;
        else d->uni_class[c - 128] = (uint8_t)k;
    }
    d->n_classes = n_classes;
    /* state 0: dead (empty set); state 1: start */
    offsets[0] = offsets[1] = 0;
    int n_states = 1;
    {
        int n = nfa_closure(nfa, &entry, 1, &cl, tmp);
        if (n_items + n > cap_items) {
            cap_items = grow_cap(cap_items, n_items + n);
            int *p = (int *)PyMem_Realloc(items, (size_t)cap_items * sizeof(int));
            if (!p) {
                PyErr_NoMemory();
                goto done;
            }
            items = p;
        }
        memcpy(items + n_items, tmp, (size_t)n * sizeof(int));
        n_items += n;
        offsets[++n_states] = (int)n_items;
        uint64_t h = 0xCBF29CE484222325ull;
        for (int k = 0; k < n; k++) h = (h ^ (uint64_t)tmp[k]) * 0x100000001B3ull;
        size_t slot = (size_t)(h % (2 * GR_MAX_DFA));
        while (index[slot]) slot = (slot + 1) % (2 * GR_MAX_DFA);
        index[slot] = 1;
    }
    d->start = 1;
    Py_ssize_t cap_next = 0;
    for (int st = 1; st < n_states; st++) {
        if ((Py_ssize_t)(st + 1) * n_classes > cap_next) {
            cap_next = grow_cap(cap_next, (Py_ssize_t)(n_states + 64) * n_classes);
            int32_t *p = (int32_t *)PyMem_Realloc(d->next, (size_t)cap_next * sizeof(int32_t));
            if (!p) {
                PyErr_NoMemory();
                goto done;
            }
            d->next = p;
        }
        for (int cls = 0; cls < n_classes; cls++) {
            int n_seeds = 0;
            for (int k = offsets[st]; k < offsets[st + 1]; k++) {
                int s = items[k];
                if (s != 0 && ((class_sig[cls] >> nfa->s[s].set) & 1))
                    seeds[n_seeds++] = nfa->s[s].out1;
            }
            int n = n_seeds ? nfa_closure(nfa, seeds, n_seeds, &cl, tmp) : 0;
            int found = 0; /* dead state for the empty set */
            if (n) {
                uint64_t h = 0xCBF29CE484222325ull;
                for (int k = 0; k < n; k++) h = (h ^ (uint64_t)tmp[k]) * 0x100000001B3ull;
                size_t slot = (size_t)(h % (2 * GR_MAX_DFA));
                for (; index[slot]; slot = (slot + 1) % (2 * GR_MAX_DFA)) {
                    int o = index[slot];
                    if (offsets[o + 1] - offsets[o] == n &&
                        memcmp(items + offsets[o], tmp, (size_t)n * sizeof(int)) == 0) {
                        found = o;
                        break;
                    }
                }
                if (!found) {
                    if (n_states == GR_MAX_DFA) goto done; /* too big: stay with re */
                    if (n_items + n > cap_items) {
                        cap_items = grow_cap(cap_items, n_items + n);
                        int *p = (int *)PyMem_Realloc(items, (size_t)cap_items * sizeof(int));
                        if (!p) {
                            PyErr_NoMemory();
                            goto done;
                        }
                        items = p;
                    }
                    memcpy(items + n_items, tmp, (size_t)n * sizeof(int));
                    n_items += n;
                    found = n_states++;
                    offsets[n_states] = (int)n_items;
                    index[slot] = found;
                }
            }
            d->next[(Py_ssize_t)st * n_classes + cls] = found;
        }
    }
    for (int cls = 0; cls < n_classes; cls++) d->next[cls] = 0; /* dead stays dead */
    d->n_states = n_states;
    d->accept = (uint8_t *)PyMem_Calloc((size_t)n_states, 1);
    if (!d->accept) {
        PyErr_NoMemory();
        goto done;
    }
    for (int st = 1; st < n_states; st++)
        d->accept[st] = offsets[st + 1] > offsets[st] && items[offsets[st]] == 0;
    ok = 1;
done:
    PyMem_Free(cl.stack);
    PyMem_Free(cl.visited);
    PyMem_Free(cl.mark);
    PyMem_Free(index);
    PyMem_Free(tmp);
    PyMem_Free(seeds);
    PyMem_Free(items);
    PyMem_Free(offsets);
    if (!ok) {
        dfa_free(d);
        return NULL;
    }
    return d;
}

/* A DFA for a compiled re pattern, or NULL: with an exception on failure, without one when
 * the pattern is outside the subset (flags other than the default included). */
static Dfa *grammar_compile(PyObject *pattern) {
    PyObject *source = PyObject_GetAttrString(pattern, "pattern");
    PyObject *flags = source ? PyObject_GetAttrString(pattern, "flags") : NULL;
    Dfa *dfa = NULL;
    RxParser ps;
    memset(&ps, 0, sizeof ps);
    U32Buf src = {0};
    Nfa nfa = {0};
    if (!flags) goto done;
    long f = PyLong_AsLong(flags);
    if (f == -1 && PyErr_Occurred()) goto done;
    if (!PyUnicode_Check(source) || f != 32 /* re.UNICODE only */ ||
        PyUnicode_GET_LENGTH(source) > GR_MAX_SOURCE)
        goto done;
    if (unicode_to_u32(source, &src) < 0) goto done;
    ps.p = src.p;
    ps.n = src.n;
    ps.cap_nodes = (int)(4 * src.n + 16);
    ps.nodes = (RxNode *)PyMem_Calloc((size_t)ps.cap_nodes, sizeof(RxNode));
    if (!ps.nodes) {
        PyErr_NoMemory();
        goto done;
    }
    RxNode *root = rx_alt(&ps);
    if (!root || ps.bad || ps.i != ps.n) goto done;
    nfa.cap = GR_MAX_NFA;
    nfa.s = (NfaState *)PyMem_Malloc((size_t)nfa.cap * sizeof(NfaState));
    if (!nfa.s) {
        PyErr_NoMemory();
        goto done;
    }
    nfa.n = 1;
    nfa.s[0] = (NfaState){-1, -1, -1}; /* match */
    int entry = nfa_build(&nfa, root, 0);
    if (nfa.bad) goto done;
    dfa = dfa_build(&nfa, entry, ps.sets, ps.n_sets);
done:
    Py_XDECREF(source);
    Py_XDECREF(flags);
    u32_free(&src);
    PyMem_Free(ps.nodes);
    PyMem_Free(nfa.s);
    return dfa;
}

static int dfa_fullmatch(const Dfa *d, PyObject *value) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(value);
    int32_t s = d->start;
    const int32_t *next = d->next;
    const int nc = d->n_classes;
    if (PyUnicode_IS_ASCII(value)) {
        const Py_UCS1 *p = PyUnicode_1BYTE_DATA(value);
        for (Py_ssize_t i = 0; i < n && s; i++) s = next[s * nc + d->ascii_class[p[i]]];
        return d->accept[s];
    }
    int kind = PyUnicode_KIND(value);
    const void *data = PyUnicode_DATA(value);
    for (Py_ssize_t i = 0; i < n && s; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        int cls;
        if (c < 128) {
            cls = d->ascii_class[c];
        } else {
            int t = Py_UNICODE_ISDECIMAL(c) | (Py_UNICODE_ISALNUM(c) || c == '_') << 1 |
                    Py_UNICODE_ISSPACE(c) << 2;
            cls = d->uni_class[t];
        }
        s = next[s * nc + cls];
    }
    return d->accept[s];
}

/* Grammar(pattern): the compiled test, for tests of the compiler. */
typedef struct {
    PyObject_HEAD
    Dfa *dfa;
} Grammar;

static void Grammar_dealloc(Grammar *self) {
    dfa_free(self->dfa);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Grammar_init(Grammar *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"pattern", NULL};
    PyObject *pattern;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O", kwlist, &pattern)) return -1;
    dfa_free(self->dfa);
    self->dfa = grammar_compile(pattern);
    if (self->dfa) return 0;
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_ValueError, "pattern outside the supported subset");
    return -1;
}

static PyObject *Grammar_fullmatch(Grammar *self, PyObject *value) {
    if (!self->dfa) {
        PyErr_SetString(PyExc_RuntimeError, "Grammar is not initialized");
        return NULL;
    }
    if (!PyUnicode_Check(value)) {
        PyErr_SetString(PyExc_TypeError, "fullmatch() needs a str");
        return NULL;
    }
    return PyBool_FromLong(dfa_fullmatch(self->dfa, value));
}

static PyObject *Grammar_get_states(Grammar *self, void *closure) {
    (void)closure;
    return PyLong_FromLong(self->dfa ? self->dfa->n_states : 0);
}

static PyMethodDef Grammar_methods[] = {
    {"fullmatch", (PyCFunction)Grammar_fullmatch, METH_O,
     "fullmatch(value) -> bool: pattern.fullmatch(value) is not None"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Grammar_getset[] = {
    {"states", (getter)Grammar_get_states, NULL, "number of DFA states", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject GrammarType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bastion.waf._fastpath.Grammar",
    .tp_basicsize = sizeof(Grammar),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Grammar_init,
    .tp_dealloc = (destructor)Grammar_dealloc,
    .tp_methods = Grammar_methods,
    .tp_getset = Grammar_getset,
    .tp_doc = "A header grammar (a compiled re pattern) as a DFA: same fullmatch answers.",
};

/* ==================================================================== input extraction */

/* Documents nested deeper go to the Python extraction (see extract_request). */
#define JSON_NATIVE_MAX_NESTING 200

/* inputs.InputLimits */
typedef struct {
    Py_ssize_t max_inputs, max_body_bytes, max_value_chars, max_json_depth, max_uri_chars;
} Limits;

/* An owned constant string (table entries handed over by Python at construction). */
typedef struct {
    uint32_t *p;
    Py_ssize_t n;
} ConstStr;

typedef struct {
    ConstStr *items;
    Py_ssize_t n;
} StrList;

/* A header with a fixed grammar: lower-cased name, the compiled pattern and, when the
 * pattern is within the DFA compiler's subset, its DFA. */
typedef struct {
    ConstStr name;
    PyObject *pattern;
    Dfa *dfa;
} HeaderGrammar;

/* What the extraction needs from bastion.waf.inputs, read once (see inputs.native_tables). */
typedef struct {
    Limits lim;
    Py_ssize_t max_name_chars, sniff_bytes, json_max_nesting;
    StrList binary_prefixes, binary_types, text_prefixes, text_types, text_suffixes,
        json_suffixes, client_hint_prefixes;
    HeaderGrammar *grammars;
    Py_ssize_t n_grammars;
    PyObject *client_hint;   /* pattern for client-hint headers */
    Dfa *client_hint_dfa;
    PyObject *json_scan;     /* json.JSONDecoder(parse_int=.., parse_float=..).scan_once */
    PyObject *request_type;  /* HttpRequest: other types go to the Python extraction */
    PyObject *py_extract;    /* inputs.extract_inputs, for what C leaves to Python */
    PyObject *py_limits;     /* the InputLimits object it is called with */
    PyObject *str_fullmatch; /* "fullmatch" */
} ExtractTables;

static int const_from_unicode(PyObject *s, ConstStr *out) {
    if (!PyUnicode_Check(s)) {
        PyErr_SetString(PyExc_TypeError, "expected str in extraction tables");
        return -1;
    }
    U32Buf b = {0};
    if (unicode_to_u32(s, &b) < 0) return -1;
    out->p = b.p;
    out->n = b.n;
    return 0;
}

static void strlist_free(StrList *l) {
    for (Py_ssize_t i = 0; i < l->n; i++) PyMem_Free(l->items[i].p);
    PyMem_Free(l->items);
    l->items = NULL;
    l->n = 0;
}

/* A StrList from any iterable of str. */
static int strlist_from(PyObject *iterable, StrList *out) {
    PyObject *seq = PySequence_Fast(iterable, "expected an iterable of str");
    if (!seq) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    out->items = (ConstStr *)PyMem_Calloc((size_t)(n ? n : 1), sizeof(ConstStr));
    if (!out->items) {
        Py_DECREF(seq);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (const_from_unicode(PySequence_Fast_GET_ITEM(seq, i), &out->items[i]) < 0) {
            Py_DECREF(seq);
            return -1;
        }
        out->n = i + 1;
    }
    Py_DECREF(seq);
    return 0;
}

static inline int str_eq(const uint32_t *s, Py_ssize_t n, const ConstStr *c) {
    return n == c->n && (n == 0 || memcmp(s, c->p, (size_t)n * sizeof(uint32_t)) == 0);
}
static inline int str_startswith(const uint32_t *s, Py_ssize_t n, const ConstStr *c) {
    return n >= c->n && (c->n == 0 || memcmp(s, c->p, (size_t)c->n * sizeof(uint32_t)) == 0);
}
static inline int str_endswith(const uint32_t *s, Py_ssize_t n, const ConstStr *c) {
    return n >= c->n &&
           (c->n == 0 || memcmp(s + n - c->n, c->p, (size_t)c->n * sizeof(uint32_t)) == 0);
}
static int strlist_has(const StrList *l, const uint32_t *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < l->n; i++)
        if (str_eq(s, n, &l->items[i])) return 1;
    return 0;
}
static int strlist_prefix(const StrList *l, const uint32_t *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < l->n; i++)
        if (str_startswith(s, n, &l->items[i])) return 1;
    return 0;
}
static int ascii_eq(const uint32_t *s, Py_ssize_t n, const char *lit) {
    Py_ssize_t i = 0;
    for (; i < n && lit[i]; i++)
        if (s[i] != (unsigned char)lit[i]) return 0;
    return i == n && lit[i] == 0;
}
/* One input: offsets into Extract.arena (the arena may move when it grows). */
typedef struct {
    Py_ssize_t loc, loc_len, val, val_len;
    uint64_t hash;
    uint8_t kind; /* 'p' path, 'v' value, 'h' header, 'r' raw */
} InputRec;

/* A header of the request: its objects (borrowed from the request, so valid only while
 * extract_request runs) and lower-cased name. */
typedef struct {
    PyObject *name, *value;
    Py_ssize_t lname, lname_len; /* into Extract.hnames */
} HeaderRec;

/* The inputs of one request and the scratch used to find them (inputs._Collector). */
typedef struct {
    const ExtractTables *t;
    U32Buf arena; /* locations and values of the inputs, back to back */
    InputRec *inputs;
    Py_ssize_t n_inputs, cap_inputs;
    uint32_t *seen; /* open addressing over inputs: index + 1, 0 = empty */
    Py_ssize_t seen_cap;
    int truncated, full;
    HeaderRec *headers;
    Py_ssize_t n_headers, cap_headers;
    U32Buf hnames, loc, uri, t1, t2, t3, media;
    ByteBuf b1, b2;
} Extract;

static void extract_free(Extract *x) {
    u32_free(&x->arena);
    PyMem_Free(x->inputs);
    PyMem_Free(x->seen);
    PyMem_Free(x->headers);
    u32_free(&x->hnames);
    u32_free(&x->loc);
    u32_free(&x->uri);
    u32_free(&x->t1);
    u32_free(&x->t2);
    u32_free(&x->t3);
    u32_free(&x->media);
    bytes_free(&x->b1);
    bytes_free(&x->b2);
}

static void extract_reset(Extract *x) {
    x->arena.n = 0;
    x->n_inputs = 0;
    x->truncated = x->full = 0;
    x->n_headers = 0;
    x->hnames.n = 0;
    if (x->seen) memset(x->seen, 0, (size_t)x->seen_cap * sizeof(uint32_t));
}

static int seen_insert(Extract *x, Py_ssize_t index) {
    if (2 * (x->n_inputs + 1) > x->seen_cap) {
        Py_ssize_t cap = x->seen_cap ? 2 * x->seen_cap : 64;
        uint32_t *t = (uint32_t *)PyMem_Calloc((size_t)cap, sizeof(uint32_t));
        if (!t) {
            PyErr_NoMemory();
            return -1;
        }
        for (Py_ssize_t i = 0; i < x->n_inputs; i++) {
            if (i == index) continue;
            size_t j = (size_t)x->inputs[i].hash & (size_t)(cap - 1);
            while (t[j]) j = (j + 1) & (size_t)(cap - 1);
            t[j] = (uint32_t)(i + 1);
        }
        PyMem_Free(x->seen);
        x->seen = t;
        x->seen_cap = cap;
    }
    size_t j = (size_t)x->inputs[index].hash & (size_t)(x->seen_cap - 1);
    while (x->seen[j]) j = (j + 1) & (size_t)(x->seen_cap - 1);
    x->seen[j] = (uint32_t)(index + 1);
    return 0;
}

/* _Collector.add: cut the value to max_value_chars, replace lone surrogates, skip a
 * (location, value) pair already seen, stop at max_inputs. `loc` and `val` must not point
 * into x->arena. */
static int ex_add(Extract *x, const uint32_t *loc, Py_ssize_t nloc, uint8_t kind,
                  const uint32_t *val, Py_ssize_t nval) {
    if (x->full) return 0;
    if (nval > x->t->lim.max_value_chars) {
        nval = x->t->lim.max_value_chars;
        x->truncated = 1;
    }
    Py_ssize_t mark = x->arena.n;
    if (u32_extend(&x->arena, loc, nloc) < 0 || u32_extend(&x->arena, val, nval) < 0) return -1;
    uint32_t *l = x->arena.p + mark, *v = l + nloc;
    uint64_t h = 0xCBF29CE484222325ull;
    for (Py_ssize_t i = 0; i < nloc + nval; i++) { /* lone surrogates out, and the hash */
        if (is_surrogate(l[i])) l[i] = 0xFFFD;
        h = (h ^ l[i]) * 0x100000001B3ull;
        if (i == nloc - 1) h = h * 31 + 7; /* where the location ends */
    }
    if (x->seen_cap) {
        size_t j = (size_t)h & (size_t)(x->seen_cap - 1);
        while (x->seen[j]) {
            const InputRec *r = &x->inputs[x->seen[j] - 1];
            if (r->hash == h && u32_equal(x->arena.p + r->loc, r->loc_len, l, nloc) &&
                u32_equal(x->arena.p + r->val, r->val_len, v, nval)) {
                x->arena.n = mark; /* a duplicate */
                return 0;
            }
            j = (j + 1) & (size_t)(x->seen_cap - 1);
        }
    }
    if (x->n_inputs >= x->t->lim.max_inputs) {
        x->arena.n = mark;
        x->truncated = 1;
        x->full = 1;
        return 0;
    }
    if (x->n_inputs == x->cap_inputs) {
        Py_ssize_t cap = x->cap_inputs ? 2 * x->cap_inputs : 32;
        InputRec *p = (InputRec *)PyMem_Realloc(x->inputs, (size_t)cap * sizeof(InputRec));
        if (!p) {
            PyErr_NoMemory();
            return -1;
        }
        x->inputs = p;
        x->cap_inputs = cap;
    }
    InputRec *r = &x->inputs[x->n_inputs];
    r->loc = mark;
    r->loc_len = nloc;
    r->val = mark + nloc;
    r->val_len = nval;
    r->hash = h;
    r->kind = kind;
    x->n_inputs++;
    return seen_insert(x, x->n_inputs - 1);
}

/* x->loc = prefix ":" name[:max_name_chars] */
static int loc_named(Extract *x, const char *prefix, const uint32_t *name, Py_ssize_t n) {
    x->loc.n = 0;
    if (n > x->t->max_name_chars) n = x->t->max_name_chars;
    if (u32_extend_ascii(&x->loc, prefix) < 0 || u32_push(&x->loc, ':') < 0 ||
        u32_extend(&x->loc, name, n) < 0)
        return -1;
    return 0;
}

/* inputs._ODD_NAME.search: a character outside [A-Za-z0-9_.\-\[\]] */
static int odd_name(const uint32_t *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t c = s[i];
        if (!(is_ascii_alnum(c) || c == '_' || c == '.' || c == '-' || c == '[' || c == ']'))
            return 1;
    }
    return 0;
}

/* _Collector.text: decode at most 4 * max_value_chars bytes. */
static int ex_text(Extract *x, const unsigned char *data, Py_ssize_t n, U32Buf *out) {
    Py_ssize_t cap = x->t->lim.max_value_chars <= PY_SSIZE_T_MAX / 4
                         ? 4 * x->t->lim.max_value_chars
                         : PY_SSIZE_T_MAX;
    if (n > cap) {
        n = cap;
        x->truncated = 1;
    }
    out->n = 0;
    return decode_bytes_append(data, n, out, &x->b1);
}

/* _Collector.unquote_plus: '+' is a space, %XX decoded once, at most 4 * max_value_chars
 * characters. */
static int ex_unquote_plus(Extract *x, const uint32_t *s, Py_ssize_t n, U32Buf *out) {
    Py_ssize_t cap = x->t->lim.max_value_chars <= PY_SSIZE_T_MAX / 4
                         ? 4 * x->t->lim.max_value_chars
                         : PY_SSIZE_T_MAX;
    if (n > cap) {
        n = cap;
        x->truncated = 1;
    }
    out->n = 0;
    if (u32_reserve(out, n) < 0) return -1;
    int pct = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        uint32_t c = s[i];
        pct |= c == '%';
        out->p[i] = c == '+' ? ' ' : c;
    }
    out->n = n;
    if (!pct) return 0;
    /* urllib.parse.unquote_to_bytes on the UTF-8 (surrogatepass) bytes, then decode_bytes */
    ByteBuf *enc = &x->b2;
    enc->n = 0;
    if (utf8_encode_append(enc, out->p, out->n) < 0) return -1;
    unsigned char *p = enc->p, *d = enc->p;
    Py_ssize_t m = enc->n, i = 0;
    while (i < m) { /* in place: the output never outruns the input */
        if (p[i] == '%' && i + 2 < m && is_hex(p[i + 1]) && is_hex(p[i + 2])) {
            *d++ = (unsigned char)(hex_value(p[i + 1]) << 4 | hex_value(p[i + 2]));
            i += 3;
        } else {
            *d++ = p[i++];
        }
    }
    enc->n = d - enc->p;
    out->n = 0;
    return decode_bytes_append(enc->p, enc->n, out, &x->b1);
}

/* ---------------------------------------------------------------- urlencoded */

static int add_urlencoded(Extract *x, const uint32_t *text, Py_ssize_t n, const char *prefix,
                          const char *key_prefix) {
    if (!u32_contains(text, n, '=')) {
        if (ex_unquote_plus(x, text, n, &x->t2) < 0) return -1;
        x->loc.n = 0;
        if (u32_extend_ascii(&x->loc, prefix) < 0) return -1;
        return ex_add(x, x->loc.p, x->loc.n, 'v', x->t2.p, x->t2.n);
    }
    Py_ssize_t i = 0;
    while (i <= n && !x->full) {
        Py_ssize_t end = i;
        while (end < n && text[end] != '&') end++;
        if (end > i) {
            Py_ssize_t eq = i;
            while (eq < end && text[eq] != '=') eq++;
            U32Buf *name = &x->t1, *value = &x->t2;
            if (ex_unquote_plus(x, text + i, eq - i, name) < 0) return -1;
            if (odd_name(name->p, name->n)) {
                if (loc_named(x, key_prefix, name->p, name->n) < 0 ||
                    ex_add(x, x->loc.p, x->loc.n, 'v', name->p, name->n) < 0)
                    return -1;
            }
            Py_ssize_t v0 = eq < end ? eq + 1 : end;
            if (ex_unquote_plus(x, text + v0, end - v0, value) < 0 ||
                loc_named(x, prefix, name->p, name->n) < 0 ||
                ex_add(x, x->loc.p, x->loc.n, 'v', value->p, value->n) < 0)
                return -1;
        }
        i = end + 1;
    }
    return 0;
}

/* ---------------------------------------------------------------- media types */

/* inputs._media_type: content_type.partition(";")[0].strip().lower() into x->media. */
static int media_type(Extract *x, PyObject *content_type) {
    U32Buf *m = &x->media;
    if (unicode_to_u32(content_type, m) < 0) return -1;
    Py_ssize_t end = 0;
    while (end < m->n && m->p[end] != ';') end++;
    Py_ssize_t a = 0, b = end;
    while (a < b && is_space(m->p[a])) a++;
    while (b > a && is_space(m->p[b - 1])) b--;
    if (b > a) memmove(m->p, m->p + a, (size_t)(b - a) * sizeof(uint32_t));
    m->n = b - a;
    if (u32_max(m->p, m->n) >= 0x80) {
        if (ensure_text_globals() < 0) return -1;
        return call_on_text(m, NULL, g_str_lower);
    }
    for (Py_ssize_t i = 0; i < m->n; i++)
        if (m->p[i] >= 'A' && m->p[i] <= 'Z') m->p[i] += 32;
    return 0;
}

static int is_binary_type(const ExtractTables *t, const uint32_t *m, Py_ssize_t n) {
    return strlist_prefix(&t->binary_prefixes, m, n) || strlist_has(&t->binary_types, m, n);
}

static int strlist_suffix(const StrList *l, const uint32_t *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < l->n; i++)
        if (str_endswith(s, n, &l->items[i])) return 1;
    return 0;
}

static int is_text_type(const ExtractTables *t, const uint32_t *m, Py_ssize_t n) {
    return strlist_prefix(&t->text_prefixes, m, n) || strlist_has(&t->text_types, m, n) ||
           strlist_suffix(&t->text_suffixes, m, n);
}

static int is_json_type(const ExtractTables *t, const uint32_t *m, Py_ssize_t n) {
    return strlist_suffix(&t->json_suffixes, m, n);
}

/* ---------------------------------------------------------------- JSON bodies */

/* A JSON path as a tree: each node is its parent plus one step (key or list index). */
typedef struct {
    Py_ssize_t parent; /* -1: the root "$" */
    PyObject *key;     /* borrowed from the document; NULL for a list index */
    Py_ssize_t index;
} PathNode;

typedef struct {
    PyObject *node, *key; /* borrowed from the document; key NULL unless an object member */
    Py_ssize_t path;
    Py_ssize_t depth;
} JsonItem;

typedef struct {
    PathNode *paths;
    Py_ssize_t n_paths, cap_paths;
    JsonItem *stack;
    Py_ssize_t n_stack, cap_stack;
    Py_ssize_t *chain;
    Py_ssize_t cap_chain;
} JsonWalk;

static void json_walk_free(JsonWalk *w) {
    PyMem_Free(w->paths);
    PyMem_Free(w->stack);
    PyMem_Free(w->chain);
}

/* Append code points of str `s` (at most `limit`) to b. */
static int append_unicode(U32Buf *b, PyObject *s, Py_ssize_t limit) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    if (n > limit) n = limit;
    if (u32_reserve(b, n) < 0) return -1;
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    for (Py_ssize_t i = 0; i < n; i++) b->p[b->n++] = PyUnicode_READ(kind, data, i);
    return 0;
}

/* x->loc = prefix + the path of `path` as inputs._json_key_path writes it. */
static int json_location(Extract *x, JsonWalk *w, const char *prefix, Py_ssize_t path) {
    Py_ssize_t depth = 0;
    for (Py_ssize_t p = path; p >= 0; p = w->paths[p].parent) depth++;
    if (depth > w->cap_chain) {
        Py_ssize_t *c = (Py_ssize_t *)PyMem_Realloc(w->chain, (size_t)depth * sizeof(Py_ssize_t));
        if (!c) {
            PyErr_NoMemory();
            return -1;
        }
        w->chain = c;
        w->cap_chain = depth;
    }
    Py_ssize_t k = depth;
    for (Py_ssize_t p = path; p >= 0; p = w->paths[p].parent) w->chain[--k] = p;
    U32Buf *b = &x->loc;
    b->n = 0;
    if (u32_extend_ascii(b, prefix) < 0 || u32_push(b, '$') < 0) return -1;
    for (Py_ssize_t i = 0; i < depth; i++) {
        const PathNode *pn = &w->paths[w->chain[i]];
        if (!pn->key) {
            char num[32];
            snprintf(num, sizeof num, "[%zd]", pn->index);
            if (u32_extend_ascii(b, num) < 0) return -1;
            continue;
        }
        PyObject *key = pn->key;
        Py_ssize_t n = PyUnicode_GET_LENGTH(key);
        int plain = n > 0;
        for (Py_ssize_t j = 0; j < n && plain; j++) {
            Py_UCS4 c = PyUnicode_READ_CHAR(key, j);
            plain = is_ascii_alnum(c) || c == '_';
        }
        Py_ssize_t cut = n < x->t->max_name_chars ? n : x->t->max_name_chars;
        if (plain) {
            if (u32_push(b, '.') < 0 || append_unicode(b, key, cut) < 0) return -1;
            continue;
        }
        if (u32_extend_ascii(b, "['") < 0) return -1;
        for (Py_ssize_t j = 0; j < cut; j++) {
            Py_UCS4 c = PyUnicode_READ_CHAR(key, j);
            if ((c == '\\' || c == '\'') && u32_push(b, '\\') < 0) return -1;
            if (u32_push(b, c) < 0) return -1;
        }
        if (u32_extend_ascii(b, "']") < 0) return -1;
    }
    return 0;
}

static int json_push(JsonWalk *w, Py_ssize_t parent, PyObject *key, Py_ssize_t index,
                     PyObject *node, Py_ssize_t depth, JsonItem *slot) {
    if (w->n_paths == w->cap_paths) {
        Py_ssize_t cap = w->cap_paths ? 2 * w->cap_paths : 64;
        PathNode *p = (PathNode *)PyMem_Realloc(w->paths, (size_t)cap * sizeof(PathNode));
        if (!p) {
            PyErr_NoMemory();
            return -1;
        }
        w->paths = p;
        w->cap_paths = cap;
    }
    w->paths[w->n_paths] = (PathNode){parent, key, index};
    *slot = (JsonItem){node, key, w->n_paths, depth};
    w->n_paths++;
    return 0;
}

static int json_stack_reserve(JsonWalk *w, Py_ssize_t extra) {
    if (w->n_stack + extra <= w->cap_stack) return 0;
    Py_ssize_t cap = grow_cap(w->cap_stack, w->n_stack + extra);
    JsonItem *s = (JsonItem *)PyMem_Realloc(w->stack, (size_t)cap * sizeof(JsonItem));
    if (!s) {
        PyErr_NoMemory();
        return -1;
    }
    w->stack = s;
    w->cap_stack = cap;
    return 0;
}

/* inputs._add_json: walk the document in document order (string leaves, odd keys). */
static int add_json(Extract *x, PyObject *doc) {
    JsonWalk w = {0};
    int rc = -1;
    if (json_stack_reserve(&w, 1) < 0) goto done;
    w.stack[w.n_stack++] = (JsonItem){doc, NULL, -1, 0};
    const Py_ssize_t max_depth = x->t->lim.max_json_depth;
    while (w.n_stack && !x->full) {
        JsonItem it = w.stack[--w.n_stack];
        if (it.key) {
            U32Buf *k = &x->t1;
            k->n = 0;
            if (append_unicode(k, it.key, PY_SSIZE_T_MAX) < 0) goto done;
            if (odd_name(k->p, k->n) &&
                (json_location(x, &w, "body:jsonkey:", it.path) < 0 ||
                 ex_add(x, x->loc.p, x->loc.n, 'v', k->p, k->n) < 0))
                goto done;
        }
        if (PyUnicode_Check(it.node)) {
            U32Buf *v = &x->t2;
            v->n = 0;
            /* one character more than can be kept tells add() to mark the cut */
            if (append_unicode(v, it.node, x->t->lim.max_value_chars + 1) < 0 ||
                json_location(x, &w, "body:json:", it.path) < 0 ||
                ex_add(x, x->loc.p, x->loc.n, 'v', v->p, v->n) < 0)
                goto done;
        } else if (PyDict_Check(it.node) || PyList_Check(it.node)) {
            if (it.depth >= max_depth) {
                x->truncated = 1;
                continue;
            }
            Py_ssize_t m = PyDict_Check(it.node) ? PyDict_GET_SIZE(it.node)
                                                 : PyList_GET_SIZE(it.node);
            if (json_stack_reserve(&w, m) < 0) goto done;
            /* children pushed last-first so that they pop in document order */
            JsonItem *base = w.stack + w.n_stack;
            if (PyDict_Check(it.node)) {
                PyObject *k, *v;
                Py_ssize_t pos = 0, i = 0;
                while (i < m && PyDict_Next(it.node, &pos, &k, &v)) {
                    if (json_push(&w, it.path, k, 0, v, it.depth + 1, &base[m - 1 - i]) < 0)
                        goto done;
                    i++;
                }
            } else {
                for (Py_ssize_t i = 0; i < m; i++)
                    if (json_push(&w, it.path, NULL, i, PyList_GET_ITEM(it.node, i),
                                  it.depth + 1, &base[m - 1 - i]) < 0)
                        goto done;
            }
            w.n_stack += m;
        }
    }
    rc = 0;
done:
    json_walk_free(&w);
    return rc;
}

/* Deepest bracket nesting outside strings (a cheap bound on the parser's recursion). */
static Py_ssize_t json_nesting(PyObject *text) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), depth = 0, max = 0;
    int kind = PyUnicode_KIND(text), in_str = 0;
    const void *data = PyUnicode_DATA(text);
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (in_str) {
            if (c == '\\') i++;
            else if (c == '"') in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > max) max = depth;
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return max;
}

static inline int is_json_space(Py_UCS4 c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* json.loads(text) with the scorer's decoder (json.JSONDecoder.decode, whose Python part
 * is these few lines around scan_once): a new reference, or NULL with no error set when
 * the text is not a JSON document, or NULL with an error. */
static PyObject *load_json(const ExtractTables *t, PyObject *text) {
    Py_ssize_t n = PyUnicode_GET_LENGTH(text), idx = 0;
    if (n && PyUnicode_READ_CHAR(text, 0) == 0xFEFF) return NULL; /* "Unexpected UTF-8 BOM" */
    while (idx < n && is_json_space(PyUnicode_READ_CHAR(text, idx))) idx++;
    PyObject *pos = PyLong_FromSsize_t(idx);
    if (!pos) return NULL;
    PyObject *args[2] = {text, pos};
    PyObject *res = PyObject_Vectorcall(t->json_scan, args, 2, NULL);
    Py_DECREF(pos);
    if (!res) {
        if (PyErr_ExceptionMatches(PyExc_StopIteration) ||
            PyErr_ExceptionMatches(PyExc_ValueError) ||
            PyErr_ExceptionMatches(PyExc_RecursionError))
            PyErr_Clear();
        return NULL;
    }
    if (!PyTuple_Check(res) || PyTuple_GET_SIZE(res) != 2) {
        Py_DECREF(res);
        PyErr_SetString(PyExc_TypeError, "scan_once must return (value, end)");
        return NULL;
    }
    Py_ssize_t end = PyLong_AsSsize_t(PyTuple_GET_ITEM(res, 1));
    if (end == -1 && PyErr_Occurred()) {
        Py_DECREF(res);
        return NULL;
    }
    while (end < n && is_json_space(PyUnicode_READ_CHAR(text, end))) end++;
    if (end != n) { /* "Extra data" */
        Py_DECREF(res);
        return NULL;
    }
    PyObject *doc = PyTuple_GET_ITEM(res, 0);
    Py_INCREF(doc);
    Py_DECREF(res);
    return doc;
}

static int utf8_valid(const unsigned char *s, Py_ssize_t n) {
    Py_ssize_t i = 0;
    while (i < n) {
        uint32_t cp;
        int len = s[i] < 0x80 ? 1 : utf8_seq_len(s + i, n - i, &cp);
        if (!len) return 0;
        i += len;
    }
    return 1;
}

/* decode_bytes as a str (for the JSON parser). */
static PyObject *decode_bytes_unicode(Extract *x, const unsigned char *s, Py_ssize_t n) {
    if (utf8_valid(s, n)) return PyUnicode_DecodeUTF8((const char *)s, n, NULL);
    if (replace_overlong(s, n, &x->b1) < 0) return NULL;
    return PyUnicode_DecodeUTF8((const char *)x->b1.p, x->b1.n, "replace");
}

/* ---------------------------------------------------------------- body */

/* inputs._looks_binary: over 30% of the first KiB is control characters or bad bytes. */
static int looks_binary(Extract *x, const unsigned char *body, Py_ssize_t n) {
    Py_ssize_t m = n < x->t->sniff_bytes ? n : x->t->sniff_bytes;
    U32Buf *head = &x->t3;
    head->n = 0;
    if (decode_bytes_append(body, m, head, &x->b1) < 0) return -1;
    Py_ssize_t bad = 0;
    for (Py_ssize_t i = 0; i < head->n; i++) {
        uint32_t c = head->p[i];
        bad += c <= 0x08 || c == 0x0B || c == 0x0C || (c >= 0x0E && c <= 0x1F) || c == 0x7F ||
               c == 0xFFFD;
    }
    return bad * 10 > 3 * head->n;
}

/* The part of inputs._add_body after the multipart check (which the caller did);
 * `json_text` is decode_bytes(body) when the JSON branch applies, else NULL. */
static int add_body(Extract *x, const unsigned char *body, Py_ssize_t n, int has_media,
                    PyObject *json_text) {
    const ExtractTables *t = x->t;
    const uint32_t *m = x->media.p;
    Py_ssize_t mn = has_media ? x->media.n : 0;
    if (n == 0 || is_binary_type(t, m, mn)) return 0;
    if (ascii_eq(m, mn, "application/x-www-form-urlencoded")) {
        U32Buf *text = &x->t3;
        text->n = 0;
        if (decode_bytes_append(body, n, text, &x->b1) < 0) return -1;
        /* the walk reads t1/t2 as scratch: hand it its own copy */
        U32Buf copy = {0};
        int rc = u32_extend(&copy, text->p, text->n);
        if (rc == 0) rc = add_urlencoded(x, copy.p, copy.n, "body:form", "body:formkey");
        u32_free(&copy);
        return rc;
    }
    if (json_text) {
        PyObject *doc = load_json(t, json_text);
        if (doc) {
            int rc = add_json(x, doc);
            Py_DECREF(doc);
            return rc;
        }
        if (PyErr_Occurred()) return -1;
    }
    int binary = 0;
    if (!is_text_type(t, m, mn)) {
        binary = looks_binary(x, body, n);
        if (binary < 0) return -1;
    }
    if (binary) return 0;
    U32Buf *text = &x->t3;
    if (ex_text(x, body, n, text) < 0) return -1;
    static const uint32_t loc[] = {'b', 'o', 'd', 'y', ':', 'r', 'a', 'w'};
    return ex_add(x, loc, 8, 'r', text->p, text->n);
}

/* ---------------------------------------------------------------- cookies and headers */

static int add_cookies(Extract *x, const HeaderRec *h) {
    U32Buf *v = &x->t3;
    if (unicode_to_u32(h->value, v) < 0) return -1;
    Py_ssize_t i = 0, n = v->n;
    while (i <= n && !x->full) {
        Py_ssize_t end = i;
        while (end < n && v->p[end] != ';') end++;
        Py_ssize_t a = i, b = end; /* piece.strip() */
        while (a < b && is_space(v->p[a])) a++;
        while (b > a && is_space(v->p[b - 1])) b--;
        i = end + 1;
        if (a == b) continue;
        Py_ssize_t eq = a;
        while (eq < b && v->p[eq] != '=') eq++;
        Py_ssize_t na = a, nb = eq, ca = eq + 1, cb = b;
        if (eq == b) { /* no '=': the whole piece is an unnamed cookie */
            na = nb = a;
            ca = a;
        }
        while (na < nb && is_space(v->p[na])) na++;
        while (nb > na && is_space(v->p[nb - 1])) nb--;
        while (ca < cb && is_space(v->p[ca])) ca++;
        while (cb > ca && is_space(v->p[cb - 1])) cb--;
        /* copies: ex_add needs pointers outside the arena, and t3 is ours */
        U32Buf *name = &x->t1, *cookie = &x->t2;
        name->n = cookie->n = 0;
        if (u32_extend(name, v->p + na, nb - na) < 0 || u32_extend(cookie, v->p + ca, cb - ca) < 0)
            return -1;
        if (odd_name(name->p, name->n) &&
            (loc_named(x, "cookiekey", name->p, name->n) < 0 ||
             ex_add(x, x->loc.p, x->loc.n, 'v', name->p, name->n) < 0))
            return -1;
        if (loc_named(x, "cookie", name->p, name->n) < 0 ||
            ex_add(x, x->loc.p, x->loc.n, 'v', cookie->p, cookie->n) < 0)
            return -1;
    }
    return 0;
}

/* inputs.header_is_well_formed */
static int header_is_well_formed(Extract *x, const uint32_t *name, Py_ssize_t n, PyObject *value) {
    const ExtractTables *t = x->t;
    PyObject *pattern = NULL;
    const Dfa *dfa = NULL;
    for (Py_ssize_t i = 0; i < t->n_grammars && !pattern; i++)
        if (str_eq(name, n, &t->grammars[i].name)) {
            pattern = t->grammars[i].pattern;
            dfa = t->grammars[i].dfa;
        }
    if (!pattern) {
        if (!strlist_prefix(&t->client_hint_prefixes, name, n)) return 0;
        pattern = t->client_hint;
        dfa = t->client_hint_dfa;
    }
    if (dfa) return dfa_fullmatch(dfa, value);
    PyObject *args[2] = {pattern, value};
    PyObject *match =
        PyObject_VectorcallMethod(t->str_fullmatch, args, 2, NULL);
    if (!match) return -1;
    int ok = match != Py_None;
    Py_DECREF(match);
    return ok;
}

static int add_headers(Extract *x) {
    for (Py_ssize_t i = 0; i < x->n_headers && !x->full; i++) {
        const HeaderRec *h = &x->headers[i];
        if (ascii_eq(x->hnames.p + h->lname, h->lname_len, "cookie") && add_cookies(x, h) < 0)
            return -1;
    }
    for (Py_ssize_t i = 0; i < x->n_headers && !x->full; i++) {
        const HeaderRec *h = &x->headers[i];
        U32Buf *name = &x->t1;
        name->n = 0;
        if (u32_extend(name, x->hnames.p + h->lname, h->lname_len) < 0) return -1;
        if (ascii_eq(name->p, name->n, "cookie")) continue;
        int ok = header_is_well_formed(x, name->p, name->n, h->value);
        if (ok < 0) return -1;
        if (ok) continue;
        U32Buf *value = &x->t2;
        value->n = 0;
        if (append_unicode(value, h->value, x->t->lim.max_value_chars + 1) < 0 ||
            loc_named(x, "header", name->p, name->n) < 0 ||
            ex_add(x, x->loc.p, x->loc.n, 'h', value->p, value->n) < 0)
            return -1;
    }
    return 0;
}

/* ---------------------------------------------------------------- whole request */

/* Read the headers (exact str pairs) and lower-case their names; 1 when the request
 * must go to the Python extraction instead. */
static int read_headers(Extract *x, PyObject *headers) {
    if (!PyTuple_CheckExact(headers)) return 1;
    Py_ssize_t n = PyTuple_GET_SIZE(headers);
    if (n > x->cap_headers) {
        HeaderRec *h = (HeaderRec *)PyMem_Realloc(x->headers, (size_t)n * sizeof(HeaderRec));
        if (!h) {
            PyErr_NoMemory();
            return -1;
        }
        x->headers = h;
        x->cap_headers = n;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *pair = PyTuple_GET_ITEM(headers, i);
        if (!PyTuple_CheckExact(pair) || PyTuple_GET_SIZE(pair) != 2) return 1;
        PyObject *name = PyTuple_GET_ITEM(pair, 0), *value = PyTuple_GET_ITEM(pair, 1);
        if (!PyUnicode_CheckExact(name) || !PyUnicode_CheckExact(value)) return 1;
        HeaderRec *h = &x->headers[i];
        h->name = name;
        h->value = value;
        h->lname = x->hnames.n;
        if (PyUnicode_IS_ASCII(name)) {
            Py_ssize_t len = PyUnicode_GET_LENGTH(name);
            const Py_UCS1 *d = PyUnicode_1BYTE_DATA(name);
            if (u32_reserve(&x->hnames, len) < 0) return -1;
            for (Py_ssize_t k = 0; k < len; k++)
                x->hnames.p[x->hnames.n++] = (d[k] >= 'A' && d[k] <= 'Z') ? d[k] + 32u : d[k];
        } else { /* str.lower(): full Unicode case mapping */
            PyObject *lower = PyObject_CallMethodNoArgs(name, g_str_lower);
            if (!lower) return -1;
            int rc = append_unicode(&x->hnames, lower, PY_SSIZE_T_MAX);
            Py_DECREF(lower);
            if (rc < 0) return -1;
        }
        h->lname_len = x->hnames.n - h->lname;
    }
    x->n_headers = n;
    return 0;
}

static int extract_parts(Extract *x, PyObject *uri, const unsigned char *bdata, Py_ssize_t blen,
                         int body_cut, int has_media, PyObject *json_text);

/* inputs.extract_inputs in C. Returns 0 when done, 1 when this request must go to the
 * Python extraction (multipart bodies, deeply nested JSON, unusual object types), -1 on
 * error. Decides before adding anything, so a 1 leaves no partial state behind. */
static int extract_request(Extract *x, PyObject *request, PyObject *uri, PyObject *headers,
                           PyObject *body) {
    const ExtractTables *t = x->t;
    extract_reset(x);
    if (ensure_text_globals() < 0) return -1;
    if (Py_TYPE(request) != (PyTypeObject *)t->request_type || !PyUnicode_CheckExact(uri) ||
        !PyBytes_CheckExact(body))
        return 1;
    int rc = read_headers(x, headers);
    if (rc) return rc;

    const unsigned char *bdata = (const unsigned char *)PyBytes_AS_STRING(body);
    Py_ssize_t blen = PyBytes_GET_SIZE(body);
    int body_cut = blen > t->lim.max_body_bytes;
    if (body_cut) blen = t->lim.max_body_bytes;
    int has_media = 0;
    if (blen) {
        PyObject *content_type = NULL; /* request.header("content-type") */
        for (Py_ssize_t i = 0; i < x->n_headers && !content_type; i++)
            if (ascii_eq(x->hnames.p + x->headers[i].lname, x->headers[i].lname_len,
                         "content-type"))
                content_type = x->headers[i].value;
        x->media.n = 0;
        if (content_type) {
            if (media_type(x, content_type) < 0) return -1;
            has_media = 1;
        }
        if (has_media && ascii_eq(x->media.p, x->media.n, "multipart/form-data")) return 1;
        if (has_media && is_binary_type(t, x->media.p, x->media.n)) blen = 0;
    }
    PyObject *json_text = NULL; /* owned from here on */
    if (blen && !(has_media && ascii_eq(x->media.p, x->media.n,
                                        "application/x-www-form-urlencoded"))) {
        Py_ssize_t first = 0; /* body.lstrip()[:1] */
        while (first < blen && (bdata[first] == ' ' || (bdata[first] >= '\t' && bdata[first] <= '\r')))
            first++;
        if ((has_media && is_json_type(t, x->media.p, x->media.n)) ||
            (first < blen && (bdata[first] == '{' || bdata[first] == '['))) {
            json_text = decode_bytes_unicode(x, bdata, blen);
            if (!json_text) return -1;
            /* documents nested deeper than this go to Python as a whole: near the
             * recursion limit, whether the parser fails depends on the call depth */
            if (json_nesting(json_text) > t->json_max_nesting) {
                Py_DECREF(json_text);
                return 1;
            }
        }
    }

    rc = extract_parts(x, uri, bdata, blen, body_cut, has_media, json_text);
    Py_XDECREF(json_text);
    return rc;
}

/* The adds of extract_request, in the reference's order: path, query, body, headers. */
static int extract_parts(Extract *x, PyObject *uri, const unsigned char *bdata, Py_ssize_t blen,
                         int body_cut, int has_media, PyObject *json_text) {
    const ExtractTables *t = x->t;
    Py_ssize_t ulen = PyUnicode_GET_LENGTH(uri);
    if (ulen > t->lim.max_uri_chars) {
        ulen = t->lim.max_uri_chars;
        x->truncated = 1;
    }
    x->uri.n = 0;
    if (append_unicode(&x->uri, uri, ulen) < 0) return -1;
    Py_ssize_t end = 0;
    while (end < x->uri.n && x->uri.p[end] != '#') end++;
    Py_ssize_t q = 0;
    while (q < end && x->uri.p[q] != '?') q++;
    if (q > 0 && !(q == 1 && x->uri.p[0] == '/')) {
        static const uint32_t loc[] = {'p', 'a', 't', 'h'};
        if (ex_add(x, loc, 4, 'p', x->uri.p, q) < 0) return -1;
    }
    if (q + 1 < end && add_urlencoded(x, x->uri.p + q + 1, end - q - 1, "query", "querykey") < 0)
        return -1;
    if (body_cut) x->truncated = 1;
    if (!x->full && add_body(x, bdata, blen, has_media, json_text) < 0) return -1;
    if (!x->full && add_headers(x) < 0) return -1;
    return 0;
}

/* The Python extraction's result (an ExtractedInputs) copied into x. */
static int extract_from_python(Extract *x, PyObject *request) {
    const ExtractTables *t = x->t;
    extract_reset(x);
    PyObject *args[2] = {request, t->py_limits};
    PyObject *res = PyObject_Vectorcall(t->py_extract, args, 2, NULL);
    if (!res) return -1;
    int rc = -1;
    PyObject *inputs = PyObject_GetAttrString(res, "inputs");
    PyObject *trunc = PyObject_GetAttrString(res, "truncated");
    PyObject *seq = inputs ? PySequence_Fast(inputs, "inputs must be a sequence") : NULL;
    if (!seq || !trunc) goto done;
    x->truncated = PyObject_IsTrue(trunc);
    if (x->truncated < 0) goto done;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *inp = PySequence_Fast_GET_ITEM(seq, i);
        if (!PyTuple_Check(inp) || PyTuple_GET_SIZE(inp) != 3) {
            PyErr_SetString(PyExc_TypeError, "inputs must be (location, kind, value) tuples");
            goto done;
        }
        PyObject *loc = PyTuple_GET_ITEM(inp, 0), *kind = PyTuple_GET_ITEM(inp, 1),
                 *value = PyTuple_GET_ITEM(inp, 2);
        if (!PyUnicode_Check(loc) || !PyUnicode_Check(kind) || !PyUnicode_Check(value)) {
            PyErr_SetString(PyExc_TypeError, "inputs must hold str");
            goto done;
        }
        uint8_t code = 'v'; /* scorer._KIND_CODES.get(kind, value) */
        if (PyUnicode_CompareWithASCIIString(kind, "path") == 0) code = 'p';
        else if (PyUnicode_CompareWithASCIIString(kind, "header") == 0) code = 'h';
        else if (PyUnicode_CompareWithASCIIString(kind, "raw") == 0) code = 'r';
        if (x->n_inputs == x->cap_inputs) {
            Py_ssize_t cap = x->cap_inputs ? 2 * x->cap_inputs : 32;
            InputRec *p = (InputRec *)PyMem_Realloc(x->inputs, (size_t)cap * sizeof(InputRec));
            if (!p) {
                PyErr_NoMemory();
                goto done;
            }
            x->inputs = p;
            x->cap_inputs = cap;
        }
        InputRec *r = &x->inputs[x->n_inputs];
        r->loc = x->arena.n;
        if (append_unicode(&x->arena, loc, PY_SSIZE_T_MAX) < 0) goto done;
        r->loc_len = x->arena.n - r->loc;
        r->val = x->arena.n;
        if (append_unicode(&x->arena, value, PY_SSIZE_T_MAX) < 0) goto done;
        r->val_len = x->arena.n - r->val;
        r->kind = code;
        r->hash = 0;
        x->n_inputs++;
    }
    rc = 0;
done:
    Py_XDECREF(seq);
    Py_XDECREF(inputs);
    Py_XDECREF(trunc);
    Py_DECREF(res);
    return rc;
}

/* ==================================================================== scoring pipeline */

/* The regexes of scorer.py that skip values the model need not see. Both path patterns
 * are "(?:/F R{0,80})*" then "/?" with F and R character classes: deterministic to match,
 * since '/' is in neither class. `upper` admits A-Z (raw values) or not (normalized
 * text). */
static inline int plain_char(uint32_t c, int upper, int dot) {
    return (c >= 'a' && c <= 'z') || (upper && c >= 'A' && c <= 'Z') || is_ascii_digit(c) ||
           c == '_' || c == '-' || (dot && c == '.');
}

static int has_dotdot(const uint32_t *s, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i + 1 < n; i++)
        if (s[i] == '.' && s[i + 1] == '.') return 1;
    return 0;
}

static int plain_path(const uint32_t *s, Py_ssize_t n, int upper) {
    if (has_dotdot(s, n)) return 0;
    Py_ssize_t i = 0;
    while (i < n) {
        if (s[i] != '/') return 0;
        if (i + 1 == n) return 1; /* the final "/?" */
        if (!plain_char(s[i + 1], upper, 0)) return 0;
        Py_ssize_t j = i + 2;
        while (j < n && j - (i + 2) < 80 && plain_char(s[j], upper, 1)) j++;
        if (j < n && s[j] != '/') return 0;
        i = j;
    }
    return 1;
}

static int plain_token(const uint32_t *s, Py_ssize_t n, Py_ssize_t max_len, int upper) {
    if (n > max_len) return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (!plain_char(s[i], upper, 1)) return 0;
    return 1;
}

/* scorer: (len(value) <= 15 or kind == "path") and _is_plain_raw(value, kind) */
static int skip_plain_raw(const uint32_t *v, Py_ssize_t n, uint8_t kind) {
    if (kind == 'p') return plain_path(v, n, 1);
    return plain_token(v, n, 15, 1);
}

/* scorer.is_inert on normalized text */
static int text_is_inert(const uint32_t *t, Py_ssize_t n, uint8_t kind) {
    if (kind == 'p') return plain_path(t, n, 0);
    return plain_token(t, n, 128, 0);
}

/* ---------------------------------------------------------------- cache */

/* What scoring one value gave, as far as results depend on it: the per-head maximum over
 * its windows and the first window reaching it, the window count (the scorer picks its
 * calibration path by the batch's window count) and the normalized length (it counts
 * against the request's text budget). Merging these per value in input order gives the
 * same maxima and first arg-maxima as going through every window. */
typedef struct {
    int32_t norm_len, n_windows;
    float best[N_HEADS];
    int32_t argwin[N_HEADS];
} Summary;

typedef struct {
    uint64_t hash; /* 0: empty slot */
    uint64_t stamp;
    unsigned char *key; /* kind code + UTF-8 of the raw value */
    Py_ssize_t key_len;
    Summary s;
} CacheEntry;

#define CACHE_WAYS 4

/* Bounded, set-associative: a value maps to one set of CACHE_WAYS slots, and a new value
 * replaces the least recently used slot of its set. Cached or not, a value scores the
 * same (tests check), so the policy only decides speed. */
typedef struct {
    CacheEntry *slots;
    Py_ssize_t n_sets;
    uint64_t clock;
} Cache;

static void cache_free(Cache *c) {
    for (Py_ssize_t i = 0; i < c->n_sets * CACHE_WAYS; i++) PyMem_Free(c->slots[i].key);
    PyMem_Free(c->slots);
    c->slots = NULL;
    c->n_sets = 0;
}

static uint64_t hash_bytes(const unsigned char *s, Py_ssize_t n) {
    uint64_t h = 0xCBF29CE484222325ull;
    for (Py_ssize_t i = 0; i < n; i++) h = (h ^ s[i]) * 0x100000001B3ull;
    h ^= h >> 29;
    return h ? h : 1;
}

static CacheEntry *cache_find(Cache *c, const unsigned char *key, Py_ssize_t n, uint64_t h) {
    CacheEntry *set = c->slots + (Py_ssize_t)(h % (uint64_t)c->n_sets) * CACHE_WAYS;
    for (int w = 0; w < CACHE_WAYS; w++)
        if (set[w].hash == h && set[w].key_len == n && memcmp(set[w].key, key, (size_t)n) == 0)
            return &set[w];
    return NULL;
}

static int cache_get(Cache *c, const unsigned char *key, Py_ssize_t n, Summary *out) {
    if (!c->n_sets) return 0;
    CacheEntry *e = cache_find(c, key, n, hash_bytes(key, n));
    if (!e) return 0;
    e->stamp = ++c->clock;
    *out = e->s;
    return 1;
}

static int cache_put(Cache *c, const unsigned char *key, Py_ssize_t n, const Summary *s) {
    if (!c->n_sets) return 0;
    uint64_t h = hash_bytes(key, n);
    CacheEntry *e = cache_find(c, key, n, h);
    if (!e) {
        CacheEntry *set = c->slots + (Py_ssize_t)(h % (uint64_t)c->n_sets) * CACHE_WAYS;
        e = &set[0];
        for (int w = 1; w < CACHE_WAYS && e->hash; w++)
            if (!set[w].hash || set[w].stamp < e->stamp) e = &set[w];
        unsigned char *k = (unsigned char *)PyMem_Malloc((size_t)n);
        if (!k) {
            PyErr_NoMemory();
            return -1;
        }
        memcpy(k, key, (size_t)n);
        PyMem_Free(e->key);
        e->key = k;
        e->key_len = n;
        e->hash = h;
    }
    e->stamp = ++c->clock;
    e->s = *s;
    return 0;
}

/* ---------------------------------------------------------------- the Pipeline type */

typedef struct {
    PyObject_HEAD
    Engine *engine;
    ExtractTables t;
    Py_ssize_t text_budget, cache_max_value, window_chars, window_step, norm_max_chars;
    int norm_max_depth;
    Cache cache;
} Pipeline;

/* One scored value of a request: fresh (normalized now, its windows in Call.wins) or a
 * cache hit (only its summary). */
typedef struct {
    Py_ssize_t input;
    int cached, cacheable;
    Py_ssize_t first_window, n_windows; /* fresh */
    Py_ssize_t norm_len;
    Summary s; /* cached; for fresh values filled after the model ran */
} Segment;

typedef struct {
    Py_ssize_t off, len; /* slice of Call.norm */
    uint8_t kind;
} Window;

/* Everything one call needs, so that concurrent calls (a call back into Python can let
 * another thread in) share nothing but the cache, which is only touched between such
 * call-backs. */
typedef struct {
    Extract x;
    NormScratch ns;
    U32Buf ntext, norm;
    Segment *segs;
    Py_ssize_t n_segs, cap_segs;
    Window *wins;
    Py_ssize_t n_wins, cap_wins;
    float *logits; /* N_HEADS per window */
    Py_ssize_t cap_logits;
    Features feat;
    float *acc;
    ByteBuf key;
} Call;

static void call_free(Call *c) {
    extract_free(&c->x);
    norm_scratch_free(&c->ns);
    u32_free(&c->ntext);
    u32_free(&c->norm);
    PyMem_Free(c->segs);
    PyMem_Free(c->wins);
    PyMem_Free(c->logits);
    features_free(&c->feat);
    PyMem_Free(c->acc);
    bytes_free(&c->key);
}

/* Room for `need` items (at least one, so that NULL always means failure). */
static void *grow_array(void *p, Py_ssize_t *cap, Py_ssize_t need, size_t item) {
    if (need < 1) need = 1;
    if (p && need <= *cap) return p;
    Py_ssize_t c = grow_cap(*cap, need);
    if ((size_t)c > PY_SSIZE_T_MAX / item) {
        PyErr_NoMemory();
        return NULL;
    }
    void *q = PyMem_Realloc(p, (size_t)c * item);
    if (!q) {
        PyErr_NoMemory();
        return NULL;
    }
    *cap = c;
    return q;
}

static Segment *new_segment(Call *c) {
    Segment *s = (Segment *)grow_array(c->segs, &c->cap_segs, c->n_segs + 1, sizeof(Segment));
    if (!s) return NULL;
    c->segs = s;
    memset(&s[c->n_segs], 0, sizeof(Segment));
    return &s[c->n_segs++];
}

/* Cache key of an input: its kind code and the UTF-8 of its value (into c->key). */
static int input_key(Call *c, const InputRec *in) {
    c->key.n = 0;
    if (bytes_reserve(&c->key, 1) < 0) return -1;
    c->key.p[c->key.n++] = in->kind;
    return utf8_encode_append(&c->key, c->x.arena.p + in->val, in->val_len);
}

/* features.windows: start offsets step by window_step until one reaches the end. */
static Py_ssize_t window_count(const Pipeline *pl, Py_ssize_t len) {
    if (len <= pl->window_chars) return 1;
    Py_ssize_t k = 1, start = 0;
    while (start + pl->window_chars < len) {
        start += pl->window_step;
        k++;
    }
    return k;
}

/* Windows, budget and cache lookups of one request's inputs (scorer._collect_windows). */
static int collect_windows(Pipeline *pl, Call *c, int *truncated) {
    Extract *x = &c->x;
    Py_ssize_t budget = pl->text_budget;
    c->n_segs = c->n_wins = 0;
    c->norm.n = 0;
    for (Py_ssize_t i = 0; i < x->n_inputs; i++) {
        const InputRec *in = &x->inputs[i];
        const uint32_t *value = x->arena.p + in->val;
        if ((in->val_len <= 15 || in->kind == 'p') && skip_plain_raw(value, in->val_len, in->kind))
            continue;
        int cacheable = in->val_len <= pl->cache_max_value && pl->cache.n_sets > 0;
        Summary hit;
        if (cacheable) {
            if (input_key(c, in) < 0) return -1;
            if (cache_get(&pl->cache, c->key.p, c->key.n, &hit) && hit.norm_len <= budget) {
                budget -= hit.norm_len;
                if (hit.n_windows > 0) {
                    Segment *s = new_segment(c);
                    if (!s) return -1;
                    s->input = i;
                    s->cached = 1;
                    s->norm_len = hit.norm_len;
                    s->s = hit;
                }
                if (budget <= 0) {
                    *truncated = 1;
                    break;
                }
                continue;
            }
        }
        if (normalize_text(value, in->val_len, pl->norm_max_chars, pl->norm_max_depth, &c->ns,
                           &c->ntext) < 0)
            return -1;
        if (text_is_inert(c->ntext.p, c->ntext.n, in->kind)) {
            if (cacheable) {
                Summary inert = {0};
                if (input_key(c, in) < 0 || cache_put(&pl->cache, c->key.p, c->key.n, &inert) < 0)
                    return -1;
            }
            continue;
        }
        Py_ssize_t len = c->ntext.n;
        if (len > budget) {
            len = budget;
            *truncated = 1;
            cacheable = 0;
        }
        budget -= len;
        Segment *s = new_segment(c);
        if (!s) return -1;
        s->input = i;
        s->cacheable = cacheable;
        s->norm_len = len;
        s->first_window = c->n_wins;
        s->n_windows = window_count(pl, len);
        Py_ssize_t off = c->norm.n;
        if (u32_extend(&c->norm, c->ntext.p, len) < 0) return -1;
        Window *w = (Window *)grow_array(c->wins, &c->cap_wins, c->n_wins + s->n_windows,
                                         sizeof(Window));
        if (!w) return -1;
        c->wins = w;
        for (Py_ssize_t k = 0; k < s->n_windows; k++) {
            Py_ssize_t start = k * pl->window_step;
            Py_ssize_t end = start + pl->window_chars < len ? start + pl->window_chars : len;
            if (s->n_windows == 1) start = 0, end = len;
            c->wins[c->n_wins++] = (Window){off + start, end - start, in->kind};
        }
        if (budget <= 0) {
            *truncated = 1;
            break;
        }
    }
    return 0;
}

/* Logits of every fresh window of the request. */
static int run_model(Pipeline *pl, Call *c) {
    float *l = (float *)grow_array(c->logits, &c->cap_logits, c->n_wins * N_HEADS, sizeof(float));
    if (!l) return -1;
    c->logits = l;
    Engine *e = pl->engine;
    if (!c->acc) {
        c->acc = (float *)PyMem_Malloc((size_t)e->hidden * sizeof(float));
        if (!c->acc) {
            PyErr_NoMemory();
            return -1;
        }
    }
    for (Py_ssize_t w = 0; w < c->n_wins; w++) {
        const Window *win = &c->wins[w];
        if (features_reserve(&c->feat, win->len) < 0) return -1;
        featurize(e, c->norm.p + win->off, win->len, win->kind, &c->feat);
        forward(e, c->feat.ids, c->feat.n, c->acc, c->logits + w * N_HEADS);
    }
    return 0;
}

/* Where a head's maximum was reached: segment and window within it. */
typedef struct {
    Py_ssize_t seg;
    int32_t win;
} Where;

/* Per-head maxima over the request's windows in order (first maximum wins, as the
 * reference's strict > and argmax do), and cache entries for fresh values. */
static int reduce_request(Pipeline *pl, Call *c, float best[N_HEADS], Where where[N_HEADS],
                          Py_ssize_t *n_windows) {
    for (int h = 0; h < N_HEADS; h++) {
        best[h] = -INFINITY;
        where[h] = (Where){-1, -1};
    }
    for (Py_ssize_t si = 0; si < c->n_segs; si++) {
        Segment *s = &c->segs[si];
        if (!s->cached) {
            s->s.norm_len = (int32_t)s->norm_len;
            s->s.n_windows = (int32_t)s->n_windows;
            for (int h = 0; h < N_HEADS; h++) {
                s->s.best[h] = -INFINITY;
                s->s.argwin[h] = -1;
            }
            for (Py_ssize_t k = 0; k < s->n_windows; k++) {
                const float *row = c->logits + (s->first_window + k) * N_HEADS;
                for (int h = 0; h < N_HEADS; h++)
                    if (row[h] > s->s.best[h]) {
                        s->s.best[h] = row[h];
                        s->s.argwin[h] = (int32_t)k;
                    }
            }
            if (s->cacheable && (input_key(c, &c->x.inputs[s->input]) < 0 ||
                                 cache_put(&pl->cache, c->key.p, c->key.n, &s->s) < 0))
                return -1;
        }
        *n_windows += s->s.n_windows;
        for (int h = 0; h < N_HEADS; h++)
            if (s->s.best[h] > best[h]) {
                best[h] = s->s.best[h];
                where[h] = (Where){si, s->s.argwin[h]};
            }
    }
    return 0;
}

/* (location, window text, kind code) of the window behind one head, for explanations. */
static PyObject *explain_window(Pipeline *pl, Call *c, Where w) {
    const Segment *s = &c->segs[w.seg];
    const InputRec *in = &c->x.inputs[s->input];
    const uint32_t *text;
    Py_ssize_t len;
    if (s->cached) { /* normalize again: same text as when it was cached */
        if (normalize_text(c->x.arena.p + in->val, in->val_len, pl->norm_max_chars,
                           pl->norm_max_depth, &c->ns, &c->ntext) < 0)
            return NULL;
        text = c->ntext.p;
        len = c->ntext.n;
    } else {
        text = c->norm.p + c->wins[s->first_window].off;
        len = s->norm_len;
    }
    Py_ssize_t start = 0, end = len;
    if (len > pl->window_chars) {
        start = (Py_ssize_t)w.win * pl->window_step;
        end = start + pl->window_chars < len ? start + pl->window_chars : len;
    }
    PyObject *loc = u32_to_unicode(c->x.arena.p + in->loc, in->loc_len);
    PyObject *win = u32_to_unicode(text + start, end - start);
    PyObject *out = NULL;
    if (loc && win) out = Py_BuildValue("(OOi)", loc, win, (int)in->kind);
    Py_XDECREF(loc);
    Py_XDECREF(win);
    return out;
}

static PyObject *s_uri, *s_headers, *s_body;

/* Inputs of one request into c->x: C extraction, or Python's where C defers. */
static int extract_any(Pipeline *pl, Call *c, PyObject *request, int *native) {
    int rc = 1;
    c->x.t = &pl->t;
    if (Py_TYPE(request) == (PyTypeObject *)pl->t.request_type) {
        PyObject *uri = PyObject_GetAttr(request, s_uri);
        PyObject *headers = uri ? PyObject_GetAttr(request, s_headers) : NULL;
        PyObject *body = headers ? PyObject_GetAttr(request, s_body) : NULL;
        rc = body ? extract_request(&c->x, request, uri, headers, body) : -1;
        Py_XDECREF(uri);
        Py_XDECREF(headers);
        Py_XDECREF(body);
    }
    if (rc < 0) return -1;
    *native = rc == 0;
    return rc == 1 ? extract_from_python(&c->x, request) : 0;
}

/* score(requests, explain=False) -> (best logits: bytes of float32 [n x 4],
 *     flags: bytes [n] (1: has inputs, 2: truncated), windows in the batch: int,
 *     explanations: list of n tuples of 4 (location, window, kind) or None, or None) */
static PyObject *Pipeline_score(Pipeline *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"requests", "explain", NULL};
    PyObject *requests;
    int explain = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|p", kwlist, &requests, &explain)) return NULL;
    PyObject *seq = PySequence_Fast(requests, "requests must be a sequence");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject *best_bytes = PyBytes_FromStringAndSize(NULL, n * N_HEADS * (Py_ssize_t)sizeof(float));
    PyObject *flags_bytes = PyBytes_FromStringAndSize(NULL, n);
    PyObject *expl = explain ? PyList_New(n) : NULL;
    PyObject *result = NULL;
    Call c = {0};
    Py_ssize_t n_windows = 0;
    if (!best_bytes || !flags_bytes || (explain && !expl)) goto done;
    float *best_all = (float *)PyBytes_AS_STRING(best_bytes);
    unsigned char *flags = (unsigned char *)PyBytes_AS_STRING(flags_bytes);
    for (Py_ssize_t r = 0; r < n; r++) {
        if (PyErr_CheckSignals() < 0) goto done;
        int native;
        if (extract_any(self, &c, PySequence_Fast_GET_ITEM(seq, r), &native) < 0) goto done;
        int truncated = c.x.truncated;
        Where where[N_HEADS];
        if (collect_windows(self, &c, &truncated) < 0 || run_model(self, &c) < 0 ||
            reduce_request(self, &c, best_all + r * N_HEADS, where, &n_windows) < 0)
            goto done;
        flags[r] = (unsigned char)((c.x.n_inputs > 0) | (truncated ? 2 : 0));
        if (explain) {
            PyObject *heads = PyTuple_New(N_HEADS);
            if (!heads) goto done;
            PyList_SET_ITEM(expl, r, heads);
            for (int h = 0; h < N_HEADS; h++) {
                PyObject *item = Py_None;
                if (where[h].seg >= 0) {
                    item = explain_window(self, &c, where[h]);
                    if (!item) goto done;
                } else {
                    Py_INCREF(item);
                }
                PyTuple_SET_ITEM(heads, h, item);
            }
        }
    }
    result = Py_BuildValue("(OOnO)", best_bytes, flags_bytes, n_windows, expl ? expl : Py_None);
done:
    call_free(&c);
    Py_DECREF(seq);
    Py_XDECREF(best_bytes);
    Py_XDECREF(flags_bytes);
    Py_XDECREF(expl);
    return result;
}

/* extract(request) -> (inputs: list of (location, kind, value), truncated, native) */
static PyObject *Pipeline_extract(Pipeline *self, PyObject *request) {
    static const char *kinds[256];
    kinds['p'] = "path";
    kinds['v'] = "value";
    kinds['h'] = "header";
    kinds['r'] = "raw";
    Call c = {0};
    int native = 0;
    PyObject *list = NULL, *result = NULL;
    if (extract_any(self, &c, request, &native) < 0) goto done;
    list = PyList_New(c.x.n_inputs);
    if (!list) goto done;
    for (Py_ssize_t i = 0; i < c.x.n_inputs; i++) {
        const InputRec *in = &c.x.inputs[i];
        PyObject *loc = u32_to_unicode(c.x.arena.p + in->loc, in->loc_len);
        PyObject *val = u32_to_unicode(c.x.arena.p + in->val, in->val_len);
        PyObject *item = loc && val ? Py_BuildValue("(OsO)", loc, kinds[in->kind], val) : NULL;
        Py_XDECREF(loc);
        Py_XDECREF(val);
        if (!item) goto done;
        PyList_SET_ITEM(list, i, item);
    }
    result = Py_BuildValue("(ONN)", list, PyBool_FromLong(c.x.truncated), PyBool_FromLong(native));
done:
    Py_XDECREF(list);
    call_free(&c);
    return result;
}

static void tables_free(ExtractTables *t) {
    strlist_free(&t->binary_prefixes);
    strlist_free(&t->binary_types);
    strlist_free(&t->text_prefixes);
    strlist_free(&t->text_types);
    strlist_free(&t->text_suffixes);
    strlist_free(&t->json_suffixes);
    strlist_free(&t->client_hint_prefixes);
    for (Py_ssize_t i = 0; i < t->n_grammars; i++) {
        PyMem_Free(t->grammars[i].name.p);
        Py_XDECREF(t->grammars[i].pattern);
        dfa_free(t->grammars[i].dfa);
    }
    dfa_free(t->client_hint_dfa);
    t->client_hint_dfa = NULL;
    PyMem_Free(t->grammars);
    t->grammars = NULL;
    t->n_grammars = 0;
    Py_CLEAR(t->client_hint);
    Py_CLEAR(t->json_scan);
    Py_CLEAR(t->request_type);
    Py_CLEAR(t->py_extract);
    Py_CLEAR(t->py_limits);
    Py_CLEAR(t->str_fullmatch);
}

static void Pipeline_dealloc(Pipeline *self) {
    tables_free(&self->t);
    cache_free(&self->cache);
    Py_XDECREF(self->engine);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Item `key` of the tables dict (borrowed), or NULL with KeyError. */
static PyObject *table_item(PyObject *tables, const char *key) {
    PyObject *v = PyDict_GetItemString(tables, key);
    if (!v) PyErr_Format(PyExc_KeyError, "tables: missing %s", key);
    return v;
}

static int table_ssize(PyObject *tables, const char *key, Py_ssize_t *out) {
    PyObject *v = table_item(tables, key);
    if (!v) return -1;
    *out = PyLong_AsSsize_t(v);
    if (*out == -1 && PyErr_Occurred()) return -1;
    if (*out < 0) {
        PyErr_Format(PyExc_ValueError, "tables: %s must be >= 0", key);
        return -1;
    }
    return 0;
}

static int table_object(PyObject *tables, const char *key, PyObject **out) {
    PyObject *v = table_item(tables, key);
    if (!v) return -1;
    Py_INCREF(v);
    *out = v;
    return 0;
}

static int table_strlist(PyObject *tables, const char *key, StrList *out) {
    PyObject *v = table_item(tables, key);
    return v ? strlist_from(v, out) : -1;
}

static int read_tables(ExtractTables *t, PyObject *tables) {
    Limits *l = &t->lim;
    if (table_ssize(tables, "max_inputs", &l->max_inputs) < 0 ||
        table_ssize(tables, "max_body_bytes", &l->max_body_bytes) < 0 ||
        table_ssize(tables, "max_value_chars", &l->max_value_chars) < 0 ||
        table_ssize(tables, "max_json_depth", &l->max_json_depth) < 0 ||
        table_ssize(tables, "max_uri_chars", &l->max_uri_chars) < 0 ||
        table_ssize(tables, "max_name_chars", &t->max_name_chars) < 0 ||
        table_ssize(tables, "sniff_bytes", &t->sniff_bytes) < 0 ||
        table_strlist(tables, "binary_prefixes", &t->binary_prefixes) < 0 ||
        table_strlist(tables, "binary_types", &t->binary_types) < 0 ||
        table_strlist(tables, "text_prefixes", &t->text_prefixes) < 0 ||
        table_strlist(tables, "text_types", &t->text_types) < 0 ||
        table_strlist(tables, "text_suffixes", &t->text_suffixes) < 0 ||
        table_strlist(tables, "json_suffixes", &t->json_suffixes) < 0 ||
        table_strlist(tables, "client_hint_prefixes", &t->client_hint_prefixes) < 0 ||
        table_object(tables, "client_hint", &t->client_hint) < 0 ||
        table_object(tables, "json_scan", &t->json_scan) < 0 ||
        table_object(tables, "request_type", &t->request_type) < 0 ||
        table_object(tables, "extract", &t->py_extract) < 0 ||
        table_object(tables, "limits", &t->py_limits) < 0)
        return -1;
    if (!PyType_Check(t->request_type)) {
        PyErr_SetString(PyExc_TypeError, "tables: request_type must be a type");
        return -1;
    }
    if (l->max_inputs > INT32_MAX / 2) {
        PyErr_SetString(PyExc_ValueError, "tables: max_inputs is too large");
        return -1;
    }
    t->json_max_nesting = JSON_NATIVE_MAX_NESTING;
    PyObject *grammars = table_item(tables, "well_formed");
    if (!grammars) return -1;
    if (!PyDict_Check(grammars)) {
        PyErr_SetString(PyExc_TypeError, "tables: well_formed must be a dict");
        return -1;
    }
    Py_ssize_t n = PyDict_GET_SIZE(grammars), pos = 0, i = 0;
    t->grammars = (HeaderGrammar *)PyMem_Calloc((size_t)(n ? n : 1), sizeof(HeaderGrammar));
    if (!t->grammars) {
        PyErr_NoMemory();
        return -1;
    }
    PyObject *k, *v;
    while (i < n && PyDict_Next(grammars, &pos, &k, &v)) {
        if (const_from_unicode(k, &t->grammars[i].name) < 0) return -1;
        Py_INCREF(v);
        t->grammars[i].pattern = v;
        t->n_grammars = ++i;
        t->grammars[i - 1].dfa = grammar_compile(v);
        if (!t->grammars[i - 1].dfa && PyErr_Occurred()) return -1;
    }
    t->client_hint_dfa = grammar_compile(t->client_hint);
    if (!t->client_hint_dfa && PyErr_Occurred()) return -1;
    t->str_fullmatch = PyUnicode_InternFromString("fullmatch");
    return t->str_fullmatch ? 0 : -1;
}

static int Pipeline_init(Pipeline *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"engine",        "tables",         "text_budget",
                             "cache_max_value", "cache_size",   "window_chars",
                             "window_step",   "normalize_max_chars", "normalize_max_depth",
                             NULL};
    PyObject *engine, *tables;
    Py_ssize_t cache_size;
    if (self->engine) {
        PyErr_SetString(PyExc_RuntimeError, "Pipeline is already initialized");
        return -1;
    }
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O!O!$nnnnnni", kwlist, &EngineType, &engine,
                                     &PyDict_Type, &tables, &self->text_budget,
                                     &self->cache_max_value, &cache_size, &self->window_chars,
                                     &self->window_step, &self->norm_max_chars,
                                     &self->norm_max_depth))
        return -1;
    if (!engine_has_weights((Engine *)engine)) {
        PyErr_SetString(PyExc_ValueError, "engine has no model weights");
        return -1;
    }
    if (self->text_budget < 0 || self->cache_max_value < 0 || cache_size < 0 ||
        self->window_chars < 1 || self->window_step < 1 || self->norm_max_chars < 0 ||
        self->norm_max_depth < 0) {
        PyErr_SetString(PyExc_ValueError, "sizes must be >= 0 (window sizes >= 1)");
        return -1;
    }
    tables_free(&self->t); /* what an earlier, failed __init__ may have left */
    cache_free(&self->cache);
    if (ensure_text_globals() < 0 || read_tables(&self->t, tables) < 0) return -1;
    if (cache_size > 0) {
        Py_ssize_t sets = (cache_size + CACHE_WAYS - 1) / CACHE_WAYS;
        self->cache.slots = (CacheEntry *)PyMem_Calloc((size_t)sets * CACHE_WAYS, sizeof(CacheEntry));
        if (!self->cache.slots) {
            PyErr_NoMemory();
            return -1;
        }
        self->cache.n_sets = sets;
    }
    Py_INCREF(engine);
    self->engine = (Engine *)engine;
    return 0;
}

/* Cheap guard for methods called on a Pipeline whose __init__ failed or never ran. */
static int pipeline_ready(Pipeline *self) {
    if (self->engine) return 1;
    PyErr_SetString(PyExc_RuntimeError, "Pipeline is not initialized");
    return 0;
}

static PyObject *Pipeline_score_checked(Pipeline *self, PyObject *args, PyObject *kwds) {
    return pipeline_ready(self) ? Pipeline_score(self, args, kwds) : NULL;
}

static PyObject *Pipeline_extract_checked(Pipeline *self, PyObject *request) {
    return pipeline_ready(self) ? Pipeline_extract(self, request) : NULL;
}

static PyMethodDef Pipeline_methods[] = {
    {"score", (PyCFunction)(void (*)(void))Pipeline_score_checked, METH_VARARGS | METH_KEYWORDS,
     "score(requests, explain=False) -> (best_logits, flags, n_windows, explanations)"},
    {"extract", (PyCFunction)Pipeline_extract_checked, METH_O,
     "extract(request) -> (inputs, truncated, native): the inputs the scorer sees"},
    {NULL, NULL, 0, NULL}};

static PyTypeObject PipelineType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "bastion.waf._fastpath.Pipeline",
    .tp_basicsize = sizeof(Pipeline),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Pipeline_init,
    .tp_dealloc = (destructor)Pipeline_dealloc,
    .tp_methods = Pipeline_methods,
    .tp_doc = "Input extraction, decoding, windowing and the model for whole requests.",
};

/* Test hooks: the predicates above on a str. */
static PyObject *py_is_plain_raw(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *text;
    int kind;
    if (!PyArg_ParseTuple(args, "UC", &text, &kind)) return NULL;
    U32Buf b = {0};
    if (unicode_to_u32(text, &b) < 0) return NULL;
    int r = (b.n <= 15 || kind == 'p') && skip_plain_raw(b.p, b.n, (uint8_t)kind);
    u32_free(&b);
    return PyBool_FromLong(r);
}

static PyObject *py_is_inert(PyObject *module, PyObject *args) {
    (void)module;
    PyObject *text;
    int kind;
    if (!PyArg_ParseTuple(args, "UC", &text, &kind)) return NULL;
    U32Buf b = {0};
    if (unicode_to_u32(text, &b) < 0) return NULL;
    int r = text_is_inert(b.p, b.n, (uint8_t)kind);
    u32_free(&b);
    return PyBool_FromLong(r);
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
    {"is_plain_raw", (PyCFunction)py_is_plain_raw, METH_VARARGS,
     "is_plain_raw(value, kind_code) -> bool: the scorer's skip test for raw values (tests)"},
    {"is_inert", (PyCFunction)py_is_inert, METH_VARARGS,
     "is_inert(text, kind_code) -> bool: scorer.is_inert (tests)"},
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
    init_char_classes();
    if (PyType_Ready(&EngineType) < 0 || PyType_Ready(&PipelineType) < 0 ||
        PyType_Ready(&GrammarType) < 0)
        return NULL;
    if (!s_uri) {
        s_uri = PyUnicode_InternFromString("uri");
        s_headers = PyUnicode_InternFromString("headers");
        s_body = PyUnicode_InternFromString("body");
        if (!s_uri || !s_headers || !s_body) return NULL;
    }
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    if (PyModule_AddType(m, &EngineType) < 0 || PyModule_AddType(m, &PipelineType) < 0 ||
        PyModule_AddType(m, &GrammarType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
