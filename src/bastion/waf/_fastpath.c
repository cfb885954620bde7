/*
 * C accelerator for bastion's WAF featurizer and model forward pass.
 *
 * It implements exactly the algorithm of bastion/waf/features.py (the pure-Python
 * reference, which tests compare against) and the one-hidden-layer network of
 * bastion/waf/model.py: hashed features -> sum of embedding rows scaled by
 * 1/sqrt(count) -> ReLU -> linear heads.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    float *emb; /* (1 << bits) x hidden, or NULL for a featurize-only engine */
    float *b1;  /* hidden */
    float *w2;  /* N_HEADS x hidden */
    float b2[N_HEADS];
} Engine;

/* Growable buffer of emitted bucket ids. */
typedef struct {
    uint32_t *ids;
    Py_ssize_t n, cap;
    const Engine *eng;
    int oom;
} Sink;

static inline void sink_emit(Sink *s, uint32_t bucket) {
    if (s->n == s->cap) {
        Py_ssize_t cap = s->cap ? s->cap * 2 : 256;
        uint32_t *ids = (uint32_t *)realloc(s->ids, (size_t)cap * sizeof(uint32_t));
        if (!ids) {
            s->oom = 1;
            return;
        }
        s->ids = ids;
        s->cap = cap;
    }
    s->ids[s->n++] = bucket;
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

/* Emit all features of one text window. Returns 0 on success, -1 on failure. */
static int featurize(const Engine *e, PyObject *text, uint32_t kind, Sink *s) {
    if (PyUnicode_READY(text) < 0) return -1;
    int ukind = PyUnicode_KIND(text);
    const void *data = PyUnicode_DATA(text);
    Py_ssize_t n = PyUnicode_GET_LENGTH(text);
    const uint32_t mask = e->mask;

    uint32_t *buf = (uint32_t *)malloc(sizeof(uint32_t) * (size_t)(3 * (n + 4)));
    if (!buf) {
        PyErr_NoMemory();
        return -1;
    }
    uint32_t *chars = buf;             /* n + 3 */
    uint32_t *shape = buf + (n + 4);   /* <= n + 3 */
    uint32_t *tokens = buf + 2 * (n + 4);

    Py_ssize_t nc = 0;
    chars[nc++] = STX;
    chars[nc++] = kind;
    for (Py_ssize_t i = 0; i < n; i++) chars[nc++] = fold_digit(PyUnicode_READ(ukind, data, i));
    chars[nc++] = ETX;
    for (Py_ssize_t i = 0; i < nc; i++) {
        uint32_t h = FNV_OFFSET ^ SEED_CHAR;
        Py_ssize_t end = i + CHAR_MAX_N < nc ? i + CHAR_MAX_N : nc;
        for (Py_ssize_t j = i; j < end; j++) {
            h = (h ^ chars[j]) * FNV_PRIME;
            sink_emit(s, mix32(h) & mask);
        }
    }

    Py_ssize_t ns = 0, nt = 0;
    shape[ns++] = STX;
    shape[ns++] = kind;
    Py_ssize_t i = 0;
    while (i < n) {
        uint32_t c = PyUnicode_READ(ukind, data, i);
        if (is_word_start(c)) {
            uint32_t h = FNV_OFFSET ^ SEED_WORD;
            while (i < n) {
                uint32_t d = PyUnicode_READ(ukind, data, i);
                if (!is_word_char(d)) break;
                h = (h ^ fold_digit(d)) * FNV_PRIME;
                i++;
            }
            uint8_t cls = kw_lookup(e, h);
            shape[ns++] = cls ? cls : 0x61;
            tokens[nt++] = h;
            sink_emit(s, mix32(h ^ SEED_TOKEN) & mask);
        } else if (c >= 0x30 && c <= 0x39) {
            while (i < n) {
                uint32_t d = PyUnicode_READ(ukind, data, i);
                if (!(d >= 0x30 && d <= 0x39)) break;
                i++;
            }
            shape[ns++] = 0x30;
            tokens[nt++] = 0x30;
        } else if (c == 0x20 || c == 0x09) {
            while (i < n) {
                uint32_t d = PyUnicode_READ(ukind, data, i);
                if (!(d == 0x20 || d == 0x09)) break;
                i++;
            }
            shape[ns++] = 0x20;
        } else if (c > 0x7F) {
            while (i < n && PyUnicode_READ(ukind, data, i) > 0x7F) i++;
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
            if (j - a + 1 >= SHAPE_MIN_N) sink_emit(s, mix32(h) & mask);
        }
    }
    for (Py_ssize_t a = 0; a + 1 < nt; a++) {
        uint32_t h2 = combine(tokens[a] ^ SEED_TOKEN, tokens[a + 1]);
        sink_emit(s, mix32(h2) & mask);
        if (a + 2 < nt) sink_emit(s, mix32(combine(h2, tokens[a + 2])) & mask);
    }
    free(buf);
    if (s->oom) {
        PyErr_NoMemory();
        return -1;
    }
    return 0;
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
    free(self->kw_keys);
    free(self->kw_vals);
    free(self->emb);
    free(self->b1);
    free(self->w2);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int Engine_init(Engine *self, PyObject *args, PyObject *kwds) {
    static char *kwlist[] = {"bits", "keywords", "hidden", "emb", "b1", "w2", "b2", NULL};
    int bits, hidden = 0;
    PyObject *keywords, *emb = Py_None, *b1 = Py_None, *w2 = Py_None, *b2 = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "iO!|iOOOO", kwlist, &bits, &PyDict_Type,
                                     &keywords, &hidden, &emb, &b1, &w2, &b2))
        return -1;
    if (bits < 8 || bits > 26) {
        PyErr_SetString(PyExc_ValueError, "bits must be in 8..26");
        return -1;
    }
    self->bits = bits;
    self->mask = (1u << bits) - 1u;
    Py_ssize_t nkw = PyDict_Size(keywords);
    uint32_t cap = 16;
    while (cap < (uint32_t)(nkw * 4)) cap <<= 1;
    self->kw_keys = (uint32_t *)calloc(cap, sizeof(uint32_t));
    self->kw_vals = (uint8_t *)calloc(cap, 1);
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
        self->emb = (float *)malloc(rows * (size_t)hidden * sizeof(float));
        self->b1 = (float *)malloc((size_t)hidden * sizeof(float));
        self->w2 = (float *)malloc((size_t)hidden * N_HEADS * sizeof(float));
        if (!self->emb || !self->b1 || !self->w2) {
            PyErr_NoMemory();
            return -1;
        }
        if (copy_floats(emb, self->emb, (Py_ssize_t)(rows * (size_t)hidden), "emb") < 0 ||
            copy_floats(b1, self->b1, hidden, "b1") < 0 ||
            copy_floats(w2, self->w2, (Py_ssize_t)hidden * N_HEADS, "w2") < 0 ||
            copy_floats(b2, self->b2, N_HEADS, "b2") < 0)
            return -1;
    }
    return 0;
}

static PyObject *Engine_features(Engine *self, PyObject *args) {
    PyObject *text;
    unsigned int kind;
    if (!PyArg_ParseTuple(args, "UI", &text, &kind)) return NULL;
    Sink s = {0};
    s.eng = self;
    if (featurize(self, text, kind, &s) < 0) {
        free(s.ids);
        return NULL;
    }
    PyObject *out = PyBytes_FromStringAndSize((const char *)s.ids, s.n * (Py_ssize_t)sizeof(uint32_t));
    free(s.ids);
    return out;
}

/* Sum of embedding rows for the collected ids, prefetching rows ahead (the table is larger
 * than the caches, so memory latency, not arithmetic, bounds this loop). */
static void accumulate(const Engine *e, const uint32_t *ids, Py_ssize_t n, float *acc) {
    const int hidden = e->hidden;
    const size_t stride = (size_t)hidden;
    const Py_ssize_t ahead = 12;
    memset(acc, 0, (size_t)hidden * sizeof(float));
    for (Py_ssize_t i = 0; i < n; i++) {
        if (i + ahead < n) {
            const char *p = (const char *)(e->emb + (size_t)ids[i + ahead] * stride);
            __builtin_prefetch(p);
            __builtin_prefetch(p + 64);
        }
        const float *row = e->emb + (size_t)ids[i] * stride;
        for (int k = 0; k < hidden; k++) acc[k] += row[k];
    }
}

/* logits(texts: list[str], kinds: bytes) -> bytes of float32 [len(texts) x 4] */
static PyObject *Engine_logits(Engine *self, PyObject *args) {
    PyObject *texts;
    Py_buffer kinds;
    if (!self->emb) {
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
    float *acc = (float *)malloc((size_t)self->hidden * sizeof(float));
    Sink s = {0};
    s.eng = self;
    if (!out || !acc) {
        Py_XDECREF(out);
        free(acc);
        PyBuffer_Release(&kinds);
        return PyErr_NoMemory();
    }
    float *res = (float *)PyBytes_AS_STRING(out);
    const unsigned char *kb = (const unsigned char *)kinds.buf;
    for (Py_ssize_t t = 0; t < n; t++) {
        PyObject *text = PyList_GET_ITEM(texts, t);
        if (!PyUnicode_Check(text)) {
            PyErr_SetString(PyExc_TypeError, "texts must be str");
            goto fail;
        }
        s.n = 0; /* reuse the id buffer across texts */
        if (featurize(self, text, kb[t], &s) < 0) goto fail;
        accumulate(self, s.ids, s.n, acc);
        float scale = s.n > 0 ? 1.0f / sqrtf((float)s.n) : 0.0f;
        for (int h = 0; h < N_HEADS; h++) res[t * N_HEADS + h] = self->b2[h];
        for (int k = 0; k < self->hidden; k++) {
            float z = acc[k] * scale + self->b1[k];
            if (z <= 0.0f) continue;
            for (int h = 0; h < N_HEADS; h++) res[t * N_HEADS + h] += self->w2[h * self->hidden + k] * z;
        }
    }
    free(acc);
    free(s.ids);
    PyBuffer_Release(&kinds);
    return out;
fail:
    free(acc);
    free(s.ids);
    PyBuffer_Release(&kinds);
    Py_DECREF(out);
    return NULL;
}

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
    .tp_doc = "Featurizer and forward pass of the WAF model.",
};

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
    Py_INCREF(&EngineType);
    if (PyModule_AddObject(m, "Engine", (PyObject *)&EngineType) < 0) {
        Py_DECREF(&EngineType);
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
