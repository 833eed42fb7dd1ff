/* ragcli.retrieval._topk: the k best passages of a query over a term-major CSR weight matrix, exactly.

Why C, and why this way (BENCHMARKS.md, "Query speed" has the figures):
- numba's import alone costs a fresh CLI query ~0.4 s; this module imports in well under a millisecond
  and is built by the package's own build (setup.py). Without a compiler the package still installs
  (the extension is optional) and ragcli.retrieval.sparse falls back to numpy, with the same results.
- MaxScore (Turtle & Flood 1995, as PISA implements it): the query's terms sorted by
  their maximum contribution; the terms whose maxima together cannot reach the k-th best score so far
  are "non-essential" and count only for passages an essential term holds.
  The per-term maximum weight is stored at index time (`term_max`); an older index without it has it
  computed here from the term's postings.
- MaxScore a window of 4,096 passages at a time (as Lucene's MaxScoreBulkScorer): the essential terms'
  postings of the window added term at a time, and a non-essential term's too where it has few
  postings there for the window's candidates; then the candidates taken in order (`run`).
- No passage-sized memory: cursors, a k-sized heap and the window's 32 KB only, so a fresh process pays
  no page faults for scratch arrays and two threads can search at once (the GIL is released while scoring).
- Small collections (up to ragcli.retrieval.sparse.DENSE_PASSAGES passages) take `topk_dense`
  instead: term at a time into a passage-sized accumulator (9 bytes a passage), which beat MaxScore
  there (CPU per query: Cranfield −27%, SciFact −7 to −14%, NPL −12%) and lost at 100,000 passages
  (+82% on wiki100k); the same hits, to the last bit.
- Exact: a passage's score is summed in the query's term order in double precision from float32
  products (weight[term] · data[posting]), exactly as the numpy path (`np.bincount` over the postings in
  term order) sums it; ties are broken by `id_rank` (the passage id order), as `ragcli.retrieval.base.top_k` breaks them.
  Pruning only skips a passage whose bound, widened by a rounding margin, is strictly below the k-th
  score, so a tie is never pruned.
- Batches (`topk_many`): one call ranks a whole batch, which arrives in chunks from a Python
  iterator (the packing of its queries: analysis and term look-up). Threads started here (Python's
  portable PyThread API; each with its own scratch, claiming the next query under a lock) rank each
  chunk as soon as it arrives while the calling thread packs the next, then the calling thread ranks
  too with the GIL released. No kernel thread ever takes the GIL, so none waits for it; the calling
  thread takes it back briefly every 64 queries to look for a signal, so Ctrl-C stops a long batch. A Python pool
  ranking blocks cost ~2 µs a query on SciFact (its start and stop, its futures, and pool threads back
  from C waiting up to the interpreter's 5 ms switch interval for the GIL while the caller packed).
- A query's terms are found in the vocabulary here too (`find_terms`): a binary search over the sorted
  strings themselves, no hash to compute and none of numpy's per-call overhead for a handful of terms;
  and its hits' strings are read a column at a time (`take_strings`), for the same reason.
- Untrusted arrays: every term's row bounds and every passage number are checked; a damaged index
  raises ValueError (an IndexDamagedError for the user), never reads out of bounds.
*/
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <pythread.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double score;
    int64_t rank;
    int64_t doc;
} Entry;

/* a is worse than b: lower score, or the same score and a later passage id */
static inline int worse(const Entry *a, const Entry *b) {
    return a->score < b->score || (a->score == b->score && a->rank > b->rank);
}

static void sift_down(Entry *heap, Py_ssize_t n, Py_ssize_t i) {
    for (;;) {
        Py_ssize_t l = 2 * i + 1, r = l + 1, w = i;
        if (l < n && worse(&heap[l], &heap[w])) w = l;
        if (r < n && worse(&heap[r], &heap[w])) w = r;
        if (w == i) return;
        Entry t = heap[i];
        heap[i] = heap[w];
        heap[w] = t;
        i = w;
    }
}

static void sift_up(Entry *heap, Py_ssize_t i) {
    while (i > 0) {
        Py_ssize_t p = (i - 1) / 2;
        if (!worse(&heap[i], &heap[p])) return;
        Entry t = heap[i];
        heap[i] = heap[p];
        heap[p] = t;
        i = p;
    }
}

/* Offer a scored passage to the k-sized heap of the best so far; whether it went in. */
static inline int offer(Entry *heap, Py_ssize_t k, Py_ssize_t *filled, Entry e) {
    if (*filled < k) {
        heap[*filled] = e;
        sift_up(heap, *filled);
        (*filled)++;
        return 1;
    }
    if (worse(&heap[0], &e)) {
        heap[0] = e;
        sift_down(heap, k, 0);
        return 1;
    }
    return 0;
}

/* best first: pop the worst to the end, one by one (a heap sort: bounded even with NaN scores) */
static void best_first(Entry *heap, Py_ssize_t filled) {
    for (Py_ssize_t i = filled - 1; i > 0; i--) {
        Entry t = heap[0];
        heap[0] = heap[i];
        heap[i] = t;
        sift_down(heap, i, 0);
    }
}

/* first position in [lo, hi) whose passage number is >= doc (galloping, then binary search) */
static inline int64_t seek(const int32_t *indices, int64_t lo, int64_t hi, int64_t doc) {
    if (lo >= hi || indices[lo] >= doc) return lo;
    int64_t step = 1, prev = lo;
    while (lo + step < hi && indices[lo + step] < doc) {
        prev = lo + step;
        step <<= 1;
    }
    int64_t a = prev + 1, b = lo + step < hi ? lo + step : hi;
    while (a < b) {
        int64_t m = a + (b - a) / 2;
        if (indices[m] < doc) a = m + 1; else b = m;
    }
    return a;
}

/* A posting's contribution: the weight rounded to float32 times the stored float32 weight, in float32,
   then widened, exactly what numpy computes for `data[lo:hi] * weight` (a Python float meets a float32
   array: NEP 50). Rounding is monotonic, so contribution(w, term_max) bounds every posting's. */
static inline double contribution(double w, float d) { return (double)((float)w * d); }

#define MAX_THREADS 64 /* threads one batch may use (more are asked for: this many) */
#define SIGNAL_EVERY 64 /* queries the calling thread ranks between two looks for a signal */
#define MARGIN 1e-9 /* relative: far above double rounding over any query's terms, far below a real gap */
#define WINDOW 4096 /* passages per window of `run`: its accumulator (32 KB) stays in the L1 cache */
_Static_assert(WINDOW / 64 <= 64, "one 64-bit word says which words of a window's bitmap are in use");
#define SCATTER_FACTOR 3 /* a non-essential term is added, not looked up, below this many postings expected a candidate */

/* What a passage needs beside its partial sum to reach the bar when terms with these summed bounds
   are still to come: the bounds and the query's constant, widened by MARGIN (the rounding of summing
   in another order than the exact score's) */
static inline double widened(double bounds, double constant) {
    return bounds * (1 + MARGIN) + constant + MARGIN * fabs(constant);
}

typedef struct {
    const int64_t *indptr;
    const int32_t *indices;
    const float *data;
    const float *term_max; /* NULL: computed from the postings */
    int64_t n_terms, nnz, n_passages;
    const int64_t *terms;
    const double *weights;
    Py_ssize_t q;
    const int64_t *id_rank;
    const uint8_t *allowed; /* NULL: all passages */
    double constant;
    Py_ssize_t k;
    Entry *heap;
    double *acc;   /* run_dense's accumulator (n_passages) or run's window (WINDOW), and ...         */
    uint8_t *held; /* ... which passages some term holds (run_dense only): zero between queries */
} Query;

/* Term t's postings, [lo, hi): 0, or -1 when the term or its row bounds are out of range (damaged). */
static inline int term_row(const Query *Q, int64_t t, int64_t *lo, int64_t *hi) {
    if (t < 0 || t >= Q->n_terms) return -1;
    *lo = Q->indptr[t];
    *hi = Q->indptr[t + 1];
    return *lo < 0 || *hi < *lo || *hi > Q->nnz ? -1 : 0;
}

/* Returns the number of hits in q->heap (sorted best first), -1 for damaged data, -2 out of memory.
   MaxScore over windows of WINDOW passages, as Lucene's MaxScoreBulkScorer does it. The terms live in
   "bound order" (ascending maximum contribution) so that the essential ones are the range [ne, q). A
   window starts at the first passage an essential term holds; the essential terms' postings in it
   are added term at a time into Q->acc (each passage's partial sum plus its rounding margin, see
   `upper`), marking the window's candidates. Each non-essential term then either adds its postings
   in the window to the candidates it holds, term at a time too, when it is expected to have fewer
   than SCATTER_FACTOR postings there per candidate; or is looked up (galloping search) passage by
   passage, largest bound first, only while it can still lift the passage to the k-th score. Against
   one passage at a time over every term's cursor (the DAAT loop this replaced), no unpredictable
   branch per posting and far fewer look-ups (BENCHMARKS.md has the figures). orig[j] is term j's
   position in the query, which fixes the order of the exact sum: a passage that survives every bound
   (~100 a query) has its added postings found again and is summed in that order. */
static Py_ssize_t run(Query *Q) {
    Py_ssize_t q = Q->q, k = Q->k, filled = 0, i, j;
    if (q == 0 || k == 0) return 0;
    int64_t *pos = malloc(sizeof(int64_t) * q), *end = malloc(sizeof(int64_t) * q), *found = malloc(sizeof(int64_t) * q);
    double *ub = malloc(sizeof(double) * q), *prefix = malloc(sizeof(double) * q), *w = malloc(sizeof(double) * q);
    double *hit_value = malloc(sizeof(double) * q), *reach = malloc(sizeof(double) * q);
    Py_ssize_t *orig = malloc(sizeof(Py_ssize_t) * q), *hit_term = malloc(sizeof(Py_ssize_t) * q);
    Py_ssize_t *look = malloc(sizeof(Py_ssize_t) * q); /* the window's looked-up terms, by ascending bound */
    char *added = malloc(q); /* whether term j's postings in this window were added to Q->acc */
    uint64_t present[WINDOW / 64] = {0}; /* the window's candidates: the passages an essential term holds */
    double *acc = Q->acc; /* WINDOW entries, zero on entry and left zero */
    Py_ssize_t result = 0;
    const int32_t *indices = Q->indices;
    const float *data = Q->data;
    const int64_t n = Q->n_passages;
    if (!pos || !end || !found || !ub || !prefix || !w || !hit_value || !reach || !orig || !hit_term || !look || !added) {
        result = -2;
        goto done;
    }
    for (i = 0; i < q; i++) {
        int64_t t = Q->terms[i], lo, hi;
        if (term_row(Q, t, &lo, &hi) < 0) { result = -1; goto done; }
        double weight = Q->weights[i], top, bound;
        if (Q->term_max) {
            top = Q->term_max[t];
        } else {
            top = -INFINITY;
            for (int64_t p = lo; p < hi; p++) if (data[p] > top) top = data[p];
        }
        if (!(weight > 0) || !isfinite(weight) || isnan(top)) bound = INFINITY; /* no bound known: always essential */
        else bound = hi > lo && contribution(weight, (float)top) > 0 ? contribution(weight, (float)top) : 0.0;
        /* insertion by ascending bound (a query has few terms) */
        for (j = i; j > 0 && ub[j - 1] > bound; j--) {
            pos[j] = pos[j - 1]; end[j] = end[j - 1]; ub[j] = ub[j - 1]; w[j] = w[j - 1]; orig[j] = orig[j - 1];
        }
        pos[j] = lo; end[j] = hi; ub[j] = bound; w[j] = weight; orig[j] = i;
    }
    /* A passage's `upper` is Σ (c + MARGIN·|c|) over the contributions c found so far: its partial sum
       widened by the margin that covers summing in another order than the exact score's. It cannot
       reach the threshold when upper + reach[l] < threshold, reach[l] being the summed bounds of the
       looked-up terms look[0..l], `widened`. */
    double run_sum = 0.0;
    for (j = 0; j < q; j++) {
        run_sum += ub[j];
        prefix[j] = run_sum;
    }
    const double reach_none = widened(0.0, Q->constant); /* with no term left to look up */
    Py_ssize_t ne = 0; /* terms [0, ne) are non-essential */
    double threshold = -INFINITY;
    for (;;) {
        int64_t base = INT64_MAX; /* the window starts at the first passage an essential term holds */
        for (j = ne; j < q; j++) if (pos[j] < end[j] && indices[pos[j]] < base) base = indices[pos[j]];
        if (base == INT64_MAX) break;
        if (base < 0 || base >= n) { result = -1; goto done; }
        const int64_t limit = base + WINDOW;
        const Py_ssize_t wne = ne; /* this window's essential terms: [wne, q), even if ne grows in it */
        int64_t candidates = 0; /* the passages of the window an essential term holds */
        uint64_t words = 0; /* which words of `present` hold one */
        for (j = wne; j < q; j++) { /* term at a time into the window */
            int64_t p = pos[j];
            const int64_t e = end[j];
            const float wf = (float)w[j];
            found[j] = p; /* where this term's postings in the window start */
            added[j] = 1;
            for (; p < e; p++) {
                const int64_t doc = indices[p];
                if (doc >= limit) break;
                if (doc < base) { result = -1; goto done; } /* postings out of order: damaged (acc is discarded) */
                const double c = (double)(wf * data[p]); /* contribution(w[j], data[p]) */
                const int64_t off = doc - base;
                acc[off] += c + MARGIN * fabs(c);
                const uint64_t bit = (uint64_t)1 << (off & 63), word = present[off >> 6];
                candidates += !(word & bit);
                present[off >> 6] = word | bit;
                words |= (uint64_t)1 << (off >> 6);
            }
            pos[j] = p;
        }
        Py_ssize_t looked = 0;
        double looked_sum = 0.0;
        for (j = 0; j < wne; j++) { /* each non-essential term: added to the candidates, or looked up */
            int64_t p = seek(indices, pos[j], end[j], base);
            pos[j] = p;
            /* its postings in the window, expected from how many it has left over how many passages
               are left (a guess: either way is exact, and counting them would take a search) */
            added[j] = (double)(end[j] - p) * WINDOW < (double)SCATTER_FACTOR * (double)candidates * (double)(n - base);
            if (!added[j]) {
                looked_sum += ub[j];
                reach[looked] = widened(looked_sum, Q->constant);
                look[looked++] = j;
                continue;
            }
            const float wf = (float)w[j];
            found[j] = p;
            for (; p < end[j]; p++) { /* no branch on whether the passage is a candidate: a select */
                const int64_t off = indices[p] - base;
                if (off >= WINDOW) break;
                if (off < 0) { result = -1; goto done; } /* out of order: damaged */
                const double c = (double)(wf * data[p]);
                acc[off] += (present[off >> 6] >> (off & 63)) & 1 ? c + MARGIN * fabs(c) : 0.0;
            }
            pos[j] = p;
        }
        for (; words; words &= words - 1) {
            const int word = __builtin_ctzll((unsigned long long)words);
            while (present[word]) {
                const int64_t off = (int64_t)word * 64 + __builtin_ctzll((unsigned long long)present[word]), doc = base + off;
                present[word] &= present[word] - 1;
                double upper = acc[off];
                acc[off] = 0.0;
                if (doc >= n) { result = -1; goto done; }
                if (Q->allowed && !Q->allowed[doc]) continue;
                Py_ssize_t hits = 0;
                int skip = 0;
                for (Py_ssize_t l = looked - 1; l >= 0; l--) { /* largest bound first, while they can matter */
                    if (upper + reach[l] < threshold) { skip = 1; break; }
                    j = look[l];
                    pos[j] = seek(indices, pos[j], end[j], doc);
                    if (pos[j] < end[j] && indices[pos[j]] == doc) {
                        double c = contribution(w[j], data[pos[j]]);
                        hit_term[hits] = orig[j];
                        hit_value[hits++] = c;
                        upper += c + MARGIN * fabs(c);
                    }
                }
                /* below the bar in any order of summation (the margin covers the rounding): no exact sum needed */
                if (skip || upper + reach_none < threshold) continue;
                for (j = 0; j < q; j++) { /* the added postings of this passage, found again */
                    if (!added[j]) continue;
                    found[j] = seek(indices, found[j], pos[j], doc);
                    if (found[j] < pos[j] && indices[found[j]] == doc) {
                        hit_term[hits] = orig[j];
                        hit_value[hits++] = contribution(w[j], data[found[j]]);
                    }
                }
                /* the exact score: summed in the query's term order, as np.bincount sums the postings */
                for (i = 1; i < hits; i++) {
                    Py_ssize_t ht = hit_term[i];
                    double hv = hit_value[i];
                    for (j = i; j > 0 && hit_term[j - 1] > ht; j--) { hit_term[j] = hit_term[j - 1]; hit_value[j] = hit_value[j - 1]; }
                    hit_term[j] = ht;
                    hit_value[j] = hv;
                }
                double score = 0.0;
                for (i = 0; i < hits; i++) score += hit_value[i];
                score += Q->constant;
                Entry e = {score, Q->id_rank[doc], doc};
                if (!offer(Q->heap, k, &filled, e)) continue;
                if (filled == k) { /* a higher bar: fewer essential terms from the next window on */
                    threshold = Q->heap[0].score;
                    while (ne < q && widened(prefix[ne], Q->constant) < threshold) ne++;
                }
            }
        }
    }
    best_first(Q->heap, filled);
    result = filled;
done:
    free(pos); free(end); free(found); free(ub); free(prefix); free(w); free(hit_value); free(reach); free(orig); free(hit_term);
    free(look); free(added);
    return result;
}

/* Term at a time into a passage-sized accumulator, for small collections: a long query's postings
   there cover much of the collection, and adding them row by row costs less than MaxScore's
   per-passage walk over every term's cursor. The same scores (each passage's contributions added in
   the query's term order from 0.0, the constant last: what `run` and np.bincount compute) for the same
   candidates (the passages some query term holds), offered to the heap in passage order as `run`
   offers them, so the same hits come out. Memory: 9 bytes a passage (Q->acc, Q->held), zero on entry
   and left zero, so that a batch of queries reuses them. */
static Py_ssize_t run_dense(Query *Q) {
    Py_ssize_t q = Q->q, k = Q->k, filled = 0, i;
    int64_t n = Q->n_passages, doc, p;
    double *acc = Q->acc;
    uint8_t *held = Q->held;
    if (q == 0 || k == 0 || n <= 0) return 0;
    for (i = 0; i < q; i++) {
        int64_t lo, hi;
        if (term_row(Q, Q->terms[i], &lo, &hi) < 0) return -1;
        double w = Q->weights[i];
        for (p = lo; p < hi; p++) {
            doc = Q->indices[p];
            if (doc < 0 || doc >= n) return -1; /* the scratch stays dirty: the caller discards it */
            acc[doc] += contribution(w, Q->data[p]);
            held[doc] = 1;
        }
    }
    /* Whether a passage is held is a coin toss to the branch predictor; whether it can enter a full
       heap is almost always "no". So the two are tested as one: the same offers, far fewer mispredicted
       branches (about half of the kernel's time on SciFact went to `if (!held[doc])`). */
    double bar = -INFINITY; /* the k-th best score once the heap is full: a passage below it cannot enter */
    for (doc = 0; doc < n; doc++) {
        double total = acc[doc] + Q->constant;
        if (held[doc] & !(total < bar)) { /* NaN is offered, as before: offer() ranks it */
            if (Q->allowed && !Q->allowed[doc]) continue;
            Entry e = {total, Q->id_rank[doc], doc};
            offer(Q->heap, k, &filled, e);
            if (filled == k) bar = Q->heap[0].score;
        }
    }
    memset(acc, 0, sizeof(double) * (size_t)n);
    memset(held, 0, (size_t)n);
    best_first(Q->heap, filled);
    return filled;
}

/* run or run_dense for one query, its hits copied to docs/scores; the scratch comes with Q */
static Py_ssize_t rank_one(Query *Q, int dense, int64_t *docs, double *scores) {
    Py_ssize_t n = dense ? run_dense(Q) : run(Q);
    for (Py_ssize_t i = 0; i < n; i++) { docs[i] = Q->heap[i].doc; scores[i] = Q->heap[i].score; }
    return n;
}

/* The heap (k entries) and the zeroed scratch (run_dense: a passage-sized accumulator; run: a window):
   0, or -1 out of memory (nothing held). */
static int scratch(Query *Q, int dense) {
    Q->heap = malloc(sizeof(Entry) * (Q->k ? Q->k : 1));
    Q->acc = calloc(dense ? (Q->n_passages > 0 ? Q->n_passages : 1) : WINDOW, sizeof(double));
    Q->held = dense ? calloc(Q->n_passages > 0 ? Q->n_passages : 1, 1) : NULL;
    if (Q->heap && Q->acc && (!dense || Q->held)) return 0;
    free(Q->heap); free(Q->acc); free(Q->held);
    Q->heap = NULL; Q->acc = NULL; Q->held = NULL;
    return -1;
}

static void release(Query *Q) { free(Q->heap); free(Q->acc); free(Q->held); }

/* rank_one's result as a Python error: 1 (error set) for damaged data (-1) or no memory (-2), else 0 */
static int ranking_failed(Py_ssize_t n) {
    if (n == -1) PyErr_SetString(PyExc_ValueError, "passage numbers or term rows out of range, or postings out of order");
    else if (n == -2) PyErr_NoMemory();
    return n < 0;
}

static int get(PyObject *obj, Py_buffer *view, int writable, Py_ssize_t itemsize, const char *name) {
    if (PyObject_GetBuffer(obj, view, (writable ? PyBUF_WRITABLE : 0) | PyBUF_C_CONTIGUOUS) < 0) return -1;
    if (view->itemsize != itemsize || view->len % itemsize) {
        PyErr_Format(PyExc_TypeError, "%s: items of %zd bytes expected", name, itemsize);
        PyBuffer_Release(view);
        return -1;
    }
    return 0;
}

/* a buffer argument into b[got] (each function below has b, got and an `out:` label that releases them) */
#define GET(obj, w, size, name) do { if (get(obj, &b[got], w, size, name) < 0) goto out; got++; } while (0)

PyDoc_STRVAR(topk_doc,
"topk(indptr, indices, data, term_max, terms, weights, k, id_rank, allowed, constant, out_docs, out_scores) -> n\n\n"
"The k best passages (written to out_docs/out_scores, best first) of a query: terms (int64) with\n"
"weights (float64), over a CSR matrix (indptr int64, indices int32, data float32). term_max (float32\n"
"per term) and allowed (bool per passage) may be None. Releases the GIL while scoring.");

/* Q's matrix, id_rank, term_max and allowed from their buffers (tmax, allowed may be NULL), and k
   bounded by the passages: 0, or -1 with ValueError for lengths that do not fit together. */
static int matrix_query(Query *Q, const Py_buffer *indptr, const Py_buffer *indices, const Py_buffer *data,
                        const Py_buffer *tmax, const Py_buffer *rank, const Py_buffer *allowed, Py_ssize_t k) {
    Q->indptr = indptr->buf;
    Q->indices = indices->buf;
    Q->data = data->buf;
    Q->n_terms = indptr->len / 8 - 1;
    Q->nnz = indices->len / 4;
    Q->n_passages = rank->len / 8;
    Q->id_rank = rank->buf;
    Q->term_max = tmax ? tmax->buf : NULL;
    Q->allowed = allowed ? allowed->buf : NULL;
    if (Q->n_terms < 0 || data->len / 4 != Q->nnz || (tmax && tmax->len / 4 != Q->n_terms) ||
        (allowed && allowed->len != Q->n_passages) || k < 0) {
        PyErr_SetString(PyExc_ValueError, "arrays of mismatched lengths");
        return -1;
    }
    Q->k = k < Q->n_passages ? k : Q->n_passages;
    return 0;
}

static PyObject *search(PyObject *args, int dense) {
    PyObject *o_indptr, *o_indices, *o_data, *o_tmax, *o_terms, *o_weights, *o_rank, *o_allowed, *o_docs, *o_scores;
    Py_ssize_t k;
    double constant;
    if (!PyArg_ParseTuple(args, "OOOOOOnOOdOO", &o_indptr, &o_indices, &o_data, &o_tmax, &o_terms, &o_weights, &k,
                          &o_rank, &o_allowed, &constant, &o_docs, &o_scores))
        return NULL;
    Py_buffer b[10];
    int got = 0;
    PyObject *result = NULL;
    Query Q;
    Q.heap = NULL; Q.acc = NULL; Q.held = NULL;
    GET(o_indptr, 0, 8, "indptr");
    GET(o_indices, 0, 4, "indices");
    GET(o_data, 0, 4, "data");
    GET(o_terms, 0, 8, "terms");
    GET(o_weights, 0, 8, "weights");
    GET(o_rank, 0, 8, "id_rank");
    GET(o_docs, 1, 8, "out_docs");
    GET(o_scores, 1, 8, "out_scores");
    Py_buffer *tmax = NULL, *allowed = NULL;
    if (o_tmax != Py_None) { GET(o_tmax, 0, 4, "term_max"); tmax = &b[got - 1]; }
    if (o_allowed != Py_None) { GET(o_allowed, 0, 1, "allowed"); allowed = &b[got - 1]; }
    if (matrix_query(&Q, &b[0], &b[1], &b[2], tmax, &b[5], allowed, k) < 0) goto out;
    Q.terms = b[3].buf;
    Q.q = b[3].len / 8;
    Q.weights = b[4].buf;
    Q.constant = constant;
    if (b[4].len / 8 != Q.q) {
        PyErr_SetString(PyExc_ValueError, "arrays of mismatched lengths");
        goto out;
    }
    if (b[6].len / 8 < Q.k || b[7].len / 8 < Q.k) {
        PyErr_SetString(PyExc_ValueError, "output arrays shorter than k");
        goto out;
    }
    if (scratch(&Q, dense) < 0) { PyErr_NoMemory(); goto out; }
    Py_ssize_t n;
    Py_BEGIN_ALLOW_THREADS
    n = rank_one(&Q, dense, b[6].buf, b[7].buf);
    Py_END_ALLOW_THREADS
    if (ranking_failed(n)) goto out;
    result = PyLong_FromSsize_t(n);
out:
    release(&Q);
    for (int i = 0; i < got; i++) PyBuffer_Release(&b[i]);
    return result;
}

static PyObject *topk(PyObject *self, PyObject *args) { return search(args, 0); }

PyDoc_STRVAR(topk_dense_doc,
"topk_dense(...) -> n\n\n"
"topk, term at a time into a passage-sized accumulator (9 bytes a passage): faster for small\n"
"collections, the same hits.");

static PyObject *topk_dense(PyObject *self, PyObject *args) { return search(args, 1); }

PyDoc_STRVAR(topk_many_doc,
"topk_many(indptr, indices, data, term_max, chunks, k, id_rank, allowed, dense, out_docs, out_scores,\n"
"          out_counts, threads=1) -> None\n\n"
"topk (dense: topk_dense) for each query of a batch that arrives in chunks: `chunks` yields\n"
"(qptr, terms, weights, constants) for the next queries in order (query i of a chunk is\n"
"terms[qptr[i]:qptr[i+1]] with those weights and constants[i]). Query j's hits go to row j of\n"
"out_docs/out_scores (k columns, C order) and their number to out_counts[j]; the chunks must hold\n"
"exactly len(out_counts) queries. `threads` - 1 threads started here rank each chunk as soon as it\n"
"arrives, while this thread takes the next from `chunks` (that is, packs it in Python); then this\n"
"thread ranks too, with the GIL released. Each thread has its own scratch and claims one query at\n"
"a time.");

/* One query of the batch, as its chunk gave it (the chunk's buffers live until the call returns). */
typedef struct {
    const int64_t *terms;
    const double *weights;
    Py_ssize_t q;
    double constant;
} Task;

/* The batch shared by the threads that rank it; `lock` guards next, published, closed, failed and
   sleeping. A worker with nothing to rank yet sleeps on its own `wake` lock (PyThread locks, held
   while it sleeps); whoever publishes queries or ends the batch releases the sleepers' locks. */
typedef struct {
    const Query *matrix; /* the matrix, k, id_rank and allowed; each thread copies it with its own scratch */
    int dense;
    Task *tasks;
    int64_t *docs, *counts;
    double *scores;
    Py_ssize_t stride; /* k: the columns of docs and scores */
    Py_ssize_t queries, next, published;
    int closed;
    Py_ssize_t failed; /* 0, or the first failure (rank_one's -1 or -2; -3: a Python error is set) */
    PyThreadState *caller; /* the calling thread's state while it has released the GIL */
    PyThread_type_lock lock;
    int workers;
    PyThread_type_lock wake[MAX_THREADS], done[MAX_THREADS];
    int sleeping[MAX_THREADS];
} Batch;

typedef struct {
    Batch *batch;
    int me; /* index into wake, done, sleeping; -1: the calling thread, which never sleeps */
} Worker;

/* Release the locks of the workers that sleep (B->lock held). */
static void wake_sleepers(Batch *B) {
    for (int w = 0; w < B->workers; w++)
        if (B->sleeping[w]) {
            B->sleeping[w] = 0;
            PyThread_release_lock(B->wake[w]);
        }
}

/* The next query to rank; -1 when none is left (the batch closed and done) or one has failed. */
static Py_ssize_t claim(Batch *B, int me, Py_ssize_t failure) {
    for (;;) {
        PyThread_acquire_lock(B->lock, WAIT_LOCK);
        if (failure < 0 && B->failed == 0) {
            B->failed = failure;
            wake_sleepers(B);
        }
        Py_ssize_t i = -1;
        int waits = 0;
        if (B->failed == 0 && B->next < B->published) i = B->next++;
        else if (B->failed == 0 && !B->closed && me >= 0) waits = B->sleeping[me] = 1;
        PyThread_release_lock(B->lock);
        if (!waits) return i;
        PyThread_acquire_lock(B->wake[me], WAIT_LOCK); /* until queries are published or the batch ends */
    }
}

/* Whether a signal handler (Ctrl-C: KeyboardInterrupt) raised, asked by the calling thread, which
   takes the GIL back for the question and releases it again. */
static int interrupted(Batch *B) {
    PyEval_RestoreThread(B->caller);
    int raised = PyErr_CheckSignals() < 0;
    B->caller = PyEval_SaveThread();
    return raised;
}

/* Rank claimed queries until none is left (no Python object touched: runs without the GIL; the
   calling thread (me < 0) looks for signals every SIGNAL_EVERY queries, so Ctrl-C stops a long batch). */
static void rank_claimed(Batch *B, int me) {
    Query Q = *B->matrix;
    Py_ssize_t n = scratch(&Q, B->dense) < 0 ? -2 : 0, ranked = 0;
    for (Py_ssize_t i = claim(B, me, n); i >= 0; i = claim(B, me, n)) {
        const Task *T = &B->tasks[i];
        Q.terms = T->terms;
        Q.weights = T->weights;
        Q.q = T->q;
        Q.constant = T->constant;
        n = rank_one(&Q, B->dense, B->docs + i * B->stride, B->scores + i * B->stride);
        B->counts[i] = n;
        if (me < 0 && n >= 0 && ++ranked % SIGNAL_EVERY == 0 && interrupted(B)) n = -3;
    }
    release(&Q);
}

static void worker_main(void *arg) {
    Worker *W = arg;
    rank_claimed(W->batch, W->me);
    PyThread_release_lock(W->batch->done[W->me]); /* its very last step: the caller frees what W points to */
}

/* Start up to `wanted` workers (fewer if the system refuses one); B->workers says how many started. */
static void start_workers(Batch *B, Worker *workers, int wanted) {
    for (int w = 0; w < wanted; w++) {
        workers[w].batch = B;
        workers[w].me = w;
        B->sleeping[w] = 0;
        B->wake[w] = PyThread_allocate_lock();
        B->done[w] = PyThread_allocate_lock();
        if (B->wake[w] && B->done[w]) {
            PyThread_acquire_lock(B->wake[w], WAIT_LOCK);
            PyThread_acquire_lock(B->done[w], WAIT_LOCK);
            PyThread_acquire_lock(B->lock, WAIT_LOCK); /* before the thread starts: wake_sleepers must see it */
            B->workers = w + 1;
            PyThread_release_lock(B->lock);
            if (PyThread_start_new_thread(worker_main, &workers[w]) != PYTHREAD_INVALID_THREAD_ID) continue;
            PyThread_acquire_lock(B->lock, WAIT_LOCK);
            B->workers = w;
            PyThread_release_lock(B->lock);
            PyThread_release_lock(B->wake[w]); /* freed unlocked, as CPython frees its own locks */
            PyThread_release_lock(B->done[w]);
        }
        if (B->wake[w]) PyThread_free_lock(B->wake[w]);
        if (B->done[w]) PyThread_free_lock(B->done[w]);
        return;
    }
}

/* Close the batch (failure < 0: it failed), rank what is left here, wait for the workers. */
static void finish(Batch *B, Py_ssize_t failure) {
    PyThread_acquire_lock(B->lock, WAIT_LOCK);
    B->closed = 1;
    if (failure < 0 && B->failed == 0) B->failed = failure;
    wake_sleepers(B);
    PyThread_release_lock(B->lock);
    rank_claimed(B, -1);
    for (int w = 0; w < B->workers; w++) {
        PyThread_acquire_lock(B->done[w], WAIT_LOCK);
        /* both are held now (each wake-up the worker took was matched by its own acquire): released,
           then freed, as CPython frees its own locks */
        PyThread_release_lock(B->done[w]);
        PyThread_release_lock(B->wake[w]);
        PyThread_free_lock(B->done[w]);
        PyThread_free_lock(B->wake[w]);
    }
}

/* One chunk's four buffers into chunk (4 views) and its queries into B->tasks: 0, or -1 with an error. */
static int take_chunk(Batch *B, PyObject *item, Py_buffer *chunk, int *got) {
    if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 4) {
        PyErr_SetString(PyExc_TypeError, "chunks: tuples (qptr, terms, weights, constants) expected");
        return -1;
    }
    const char *names[4] = {"qptr", "terms", "weights", "constants"};
    for (int j = 0; j < 4; j++) { /* all four of 8-byte items */
        if (get(PyTuple_GET_ITEM(item, j), &chunk[j], 0, 8, names[j]) < 0) return -1;
        (*got)++;
    }
    const int64_t *qptr = chunk[0].buf;
    const int64_t *terms = chunk[1].buf;
    const double *weights = chunk[2].buf, *constants = chunk[3].buf;
    Py_ssize_t m = chunk[0].len / 8 - 1, n_terms = chunk[1].len / 8;
    if (m < 0 || chunk[2].len / 8 != n_terms || chunk[3].len / 8 != m) {
        PyErr_SetString(PyExc_ValueError, "arrays of mismatched lengths");
        return -1;
    }
    if (m > B->queries - B->published) {
        PyErr_SetString(PyExc_ValueError, "chunks hold more queries than the outputs have rows");
        return -1;
    }
    for (Py_ssize_t i = 0; i < m; i++) {
        if (qptr[i] < 0 || qptr[i + 1] < qptr[i] || qptr[i + 1] > n_terms) {
            PyErr_SetString(PyExc_ValueError, "query offsets out of range");
            return -1;
        }
        Task *T = &B->tasks[B->published + i];
        T->terms = terms + qptr[i];
        T->weights = weights + qptr[i];
        T->q = qptr[i + 1] - qptr[i];
        T->constant = constants[i];
    }
    PyThread_acquire_lock(B->lock, WAIT_LOCK); /* the tasks above are written before a worker can claim them */
    B->published += m;
    wake_sleepers(B);
    PyThread_release_lock(B->lock);
    return 0;
}

static PyObject *topk_many(PyObject *self, PyObject *args) {
    PyObject *o_indptr, *o_indices, *o_data, *o_tmax, *o_chunks, *o_rank, *o_allowed, *o_docs, *o_scores, *o_counts;
    Py_ssize_t k, threads = 1;
    int dense;
    if (!PyArg_ParseTuple(args, "OOOOOnOOpOOO|n", &o_indptr, &o_indices, &o_data, &o_tmax, &o_chunks, &k, &o_rank,
                          &o_allowed, &dense, &o_docs, &o_scores, &o_counts, &threads))
        return NULL;
    if (threads < 1) {
        PyErr_SetString(PyExc_ValueError, "threads: at least 1");
        return NULL;
    }
    Py_buffer b[9]; /* 7 arrays, then term_max and allowed when given */
    int got = 0;
    Py_buffer *chunks = NULL; /* 4 views per chunk taken */
    int chunk_views = 0;
    Py_ssize_t chunk_room = 0;
    PyObject *result = NULL, *iterator = NULL, *item = NULL;
    Worker workers[MAX_THREADS];
    Query Q;
    Q.heap = NULL; Q.acc = NULL; Q.held = NULL;
    Batch B;
    memset(&B, 0, sizeof B);
    GET(o_indptr, 0, 8, "indptr");
    GET(o_indices, 0, 4, "indices");
    GET(o_data, 0, 4, "data");
    GET(o_rank, 0, 8, "id_rank");
    GET(o_docs, 1, 8, "out_docs");
    GET(o_scores, 1, 8, "out_scores");
    GET(o_counts, 1, 8, "out_counts");
    Py_buffer *tmax = NULL, *allowed = NULL;
    if (o_tmax != Py_None) { GET(o_tmax, 0, 4, "term_max"); tmax = &b[got - 1]; }
    if (o_allowed != Py_None) { GET(o_allowed, 0, 1, "allowed"); allowed = &b[got - 1]; }
    if (matrix_query(&Q, &b[0], &b[1], &b[2], tmax, &b[3], allowed, k) < 0) goto out;
    Py_ssize_t queries = b[6].len / 8;
    if (b[4].len / 8 != queries * k || b[5].len / 8 != queries * k) {
        PyErr_SetString(PyExc_ValueError, "arrays of mismatched lengths");
        goto out;
    }
    if (!(iterator = PyObject_GetIter(o_chunks))) goto out;
    B.matrix = &Q;
    B.dense = dense;
    B.docs = b[4].buf;
    B.scores = b[5].buf;
    B.counts = b[6].buf;
    B.stride = k;
    B.queries = queries;
    if (!(B.tasks = malloc(sizeof(Task) * (queries > 0 ? queries : 1))) || !(B.lock = PyThread_allocate_lock())) {
        PyErr_NoMemory();
        goto out;
    }
    if (threads > queries) threads = queries > 0 ? queries : 1;
    if (threads > MAX_THREADS) threads = MAX_THREADS;
    start_workers(&B, workers, (int)threads - 1);
    Py_ssize_t failure = 0;
    while ((item = PyIter_Next(iterator))) {
        if (chunk_views + 4 > chunk_room) {
            Py_ssize_t room = chunk_room ? 2 * chunk_room : 64;
            Py_buffer *grown = realloc(chunks, sizeof(Py_buffer) * (size_t)room);
            if (!grown) { PyErr_NoMemory(); failure = -3; break; }
            chunks = grown;
            chunk_room = room;
        }
        if (take_chunk(&B, item, chunks + chunk_views, &chunk_views) < 0) { failure = -3; break; }
        Py_CLEAR(item);
    }
    Py_CLEAR(item);
    if (PyErr_Occurred()) failure = -3;
    B.caller = PyEval_SaveThread();
    finish(&B, failure);
    PyEval_RestoreThread(B.caller);
    if (PyErr_Occurred()) goto out; /* what the chunks or a signal handler raised */
    if (B.published != queries) {
        PyErr_SetString(PyExc_ValueError, "chunks hold fewer queries than the outputs have rows");
        goto out;
    }
    if (ranking_failed(B.failed)) goto out;
    result = Py_None;
    Py_INCREF(result);
out:
    if (B.lock) PyThread_free_lock(B.lock);
    free(B.tasks);
    Py_XDECREF(iterator);
    for (int i = 0; i < chunk_views; i++) PyBuffer_Release(&chunks[i]);
    free(chunks);
    for (int i = 0; i < got; i++) PyBuffer_Release(&b[i]);
    return result;
}

/* --- query time: a query's terms in the vocabulary ----------------------------------------------------- */

PyDoc_STRVAR(find_terms_doc,
"find_terms(offsets, blob, terms) -> list\n\n"
"For each str of the list `terms`, its position in the string table (blob uint8, offsets int64: string\n"
"i is blob[offsets[i]:offsets[i + 1]], UTF-8), found by binary search in byte order, or -1. The\n"
"vocabulary is written sorted by code point, which is UTF-8's byte order, so a query term needs no\n"
"hash. A term with no UTF-8 form (a lone surrogate) is in no vocabulary: -1.\n"
"Offsets are untrusted: one out of order or past the blob raises ValueError.");

static PyObject *find_terms(PyObject *self, PyObject *args) {
    PyObject *o_offsets, *o_blob, *o_terms;
    if (!PyArg_ParseTuple(args, "OOO!", &o_offsets, &o_blob, &PyList_Type, &o_terms)) return NULL;
    Py_buffer b[2];
    int got = 0;
    PyObject *result = NULL;
    GET(o_offsets, 0, 8, "offsets");
    GET(o_blob, 0, 1, "blob");
    const int64_t *offsets = b[0].buf;
    const unsigned char *blob = b[1].buf;
    const Py_ssize_t n = b[0].len / 8 - 1, size = b[1].len, count = PyList_GET_SIZE(o_terms);
    result = PyList_New(count);
    if (!result) goto out;
    for (Py_ssize_t i = 0; i < count; i++) {
        PyObject *term = PyList_GET_ITEM(o_terms, i);
        Py_ssize_t length;
        if (!PyUnicode_Check(term)) {
            PyErr_SetString(PyExc_TypeError, "terms: a list of str expected");
            Py_CLEAR(result);
            goto out;
        }
        const char *text = PyUnicode_AsUTF8AndSize(term, &length);
        Py_ssize_t lo = 0, hi = n > 0 ? n : 0, at = -1;
        if (!text) { /* a lone surrogate: no UTF-8 form, so in no vocabulary */
            if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) { Py_CLEAR(result); goto out; }
            PyErr_Clear();
            hi = 0;
        }
        while (lo < hi) {
            const Py_ssize_t mid = lo + (hi - lo) / 2;
            const int64_t start = offsets[mid], end = offsets[mid + 1];
            if (start < 0 || end < start || end > size) {
                PyErr_SetString(PyExc_ValueError, "string table offsets out of range");
                Py_CLEAR(result);
                goto out;
            }
            const Py_ssize_t stored = (Py_ssize_t)(end - start);
            int c = memcmp(blob + start, text, (size_t)(stored < length ? stored : length));
            if (c == 0) c = (stored > length) - (stored < length);
            if (c == 0) { at = mid; break; }
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
        PyObject *found = PyLong_FromSsize_t(at);
        if (!found) { Py_CLEAR(result); goto out; }
        PyList_SET_ITEM(result, i, found);
    }
out:
    for (int i = 0; i < got; i++) PyBuffer_Release(&b[i]);
    return result;
}

PyDoc_STRVAR(take_strings_doc,
"take_strings(offsets, blob, numbers) -> list\n\n"
"String i of the table (blob uint8, offsets int64: blob[offsets[i]:offsets[i + 1]], UTF-8) for each int i\n"
"of the list `numbers`: a query's hits read five columns of ten passages, and one call per column\n"
"costs less than numpy's scalars and a slice per string. IndexError for a number outside the table,\n"
"ValueError for offsets out of order or past the blob, UnicodeDecodeError for bytes that are no UTF-8.");

static PyObject *take_strings(PyObject *self, PyObject *args) {
    PyObject *o_offsets, *o_blob, *o_numbers;
    if (!PyArg_ParseTuple(args, "OOO!", &o_offsets, &o_blob, &PyList_Type, &o_numbers)) return NULL;
    Py_buffer b[2];
    int got = 0;
    PyObject *result = NULL;
    GET(o_offsets, 0, 8, "offsets");
    GET(o_blob, 0, 1, "blob");
    const int64_t *offsets = b[0].buf;
    const char *blob = b[1].buf;
    const Py_ssize_t n = b[0].len / 8 - 1, size = b[1].len, count = PyList_GET_SIZE(o_numbers);
    result = PyList_New(count);
    if (!result) goto out;
    for (Py_ssize_t i = 0; i < count; i++) {
        const Py_ssize_t at = PyLong_AsSsize_t(PyList_GET_ITEM(o_numbers, i));
        if (at == -1 && PyErr_Occurred()) { Py_CLEAR(result); goto out; }
        if (at < 0 || at >= n) {
            PyErr_SetString(PyExc_IndexError, "string number out of range");
            Py_CLEAR(result);
            goto out;
        }
        const int64_t start = offsets[at], end = offsets[at + 1];
        if (start < 0 || end < start || end > size) {
            PyErr_SetString(PyExc_ValueError, "string table offsets out of range");
            Py_CLEAR(result);
            goto out;
        }
        PyObject *text = PyUnicode_DecodeUTF8(blob + start, (Py_ssize_t)(end - start), "strict");
        if (!text) { Py_CLEAR(result); goto out; }
        PyList_SET_ITEM(result, i, text);
    }
out:
    for (int i = 0; i < got; i++) PyBuffer_Release(&b[i]);
    return result;
}

/* --- index time: each (term, passage) entry's weight, in one pass -------------------------------------

weigh() computes the BM25 or TF-IDF weight of every entry of a term-major count matrix and each term's
largest weight (`term_max`), with the GIL released, and no temporary as large as the matrix: numpy
needs several float64 arrays of the entries for the same formula, and in a fresh process touching
that much new memory costs more than the arithmetic. The operations are the numpy formulas', one by
one in the same order, in double precision, then rounded to float32 once, so the weights are the
same to the last bit (tests/test_sparse_scoring.py; setup.py keeps the compiler from fusing a
multiply and an add into one rounding). */

enum { WEIGH_TFIDF = 0, WEIGH_LUCENE = 1, WEIGH_SATURATED = 2, WEIGH_BM25L = 3 };

typedef struct {
    const int64_t *indptr;
    const int32_t *counts, *passages;
    const double *term_factor, *row_factor, *tf_table;
    int64_t n_terms, nnz, n_passages, table_len;
    int kind;
    double k1, k1p1, delta;
    float *out, *term_max;
} Weigh;

/* 0, or -1 for arrays that do not fit together (damaged): checked before anything is written */
static int weigh_run(const Weigh *W) {
    int64_t t, e;
    if (W->indptr[0] != 0 || W->indptr[W->n_terms] != W->nnz) return -1;
    for (t = 0; t < W->n_terms; t++) if (W->indptr[t + 1] < W->indptr[t]) return -1;
    for (e = 0; e < W->nnz; e++) {
        if (W->passages[e] < 0 || W->passages[e] >= W->n_passages) return -1;
        if (W->tf_table && (W->counts[e] < 0 || W->counts[e] >= W->table_len)) return -1;
    }
    for (t = 0; t < W->n_terms; t++) {
        const double idf = W->term_factor[t];
        float top = 0.0f;
        for (e = W->indptr[t]; e < W->indptr[t + 1]; e++) {
            const double tf = W->tf_table ? W->tf_table[W->counts[e]] : (double)W->counts[e];
            const double row = W->row_factor[W->passages[e]];
            double v, norm;
            switch (W->kind) {
            case WEIGH_TFIDF: /* tf · idf / the passage's l2 norm */
                v = tf * idf;
                v = v / row;
                break;
            case WEIGH_LUCENE: /* idf · tf / (tf + k1 · length_norm) */
                norm = row * W->k1;
                norm = norm + tf;
                v = idf * tf;
                v = v / norm;
                break;
            case WEIGH_SATURATED: /* idf · tf · (k1 + 1) / (tf + k1 · length_norm) */
                norm = row * W->k1;
                norm = norm + tf;
                v = idf * tf;
                v = v * W->k1p1;
                v = v / norm;
                break;
            default: { /* BM25L: ctd = tf / length_norm; idf · tf · (k1 + 1) · (ctd + delta) / (k1 + ctd + delta) */
                const double ctd = tf / row;
                v = idf * tf;
                v = v * W->k1p1;
                v = v * (ctd + W->delta);
                norm = ctd + W->k1;
                norm = norm + W->delta;
                v = v / norm;
            }
            }
            const float w = (float)v;
            W->out[e] = w;
            /* numpy's maximum, (a >= b || a is NaN) ? a : b, from the row's first weight on */
            if (e == W->indptr[t] || (!isnan(top) && (isnan(w) || w > top))) top = w;
        }
        W->term_max[t] = top;
    }
    return 0;
}

PyDoc_STRVAR(weigh_doc,
"weigh(indptr, counts, passages, term_factor, row_factor, tf_table, kind, k1, delta, out, term_max) -> None\n\n"
"Every entry's weight (written to out, float32) of a term-major count matrix (indptr int64, counts and\n"
"passages int32), and each term's largest (term_max, float32; 0 for a term without entries).\n"
"term_factor (float64 per term: idf), row_factor (float64 per passage: BM25's length normalisation, or\n"
"TF-IDF's l2 norm); tf_table (float64 by count, or None: the count itself). kind: 0 TF-IDF, 1 BM25 as\n"
"Lucene, 2 BM25 with the (k1 + 1) factor, 3 BM25L. Releases the GIL while it computes.");

static PyObject *weigh(PyObject *self, PyObject *args) {
    PyObject *o_indptr, *o_counts, *o_passages, *o_term, *o_row, *o_table, *o_out, *o_max;
    int kind;
    double k1, delta;
    if (!PyArg_ParseTuple(args, "OOOOOOiddOO", &o_indptr, &o_counts, &o_passages, &o_term, &o_row, &o_table, &kind,
                          &k1, &delta, &o_out, &o_max))
        return NULL;
    Py_buffer b[8];
    int got = 0, status = 0;
    PyObject *result = NULL;
    GET(o_indptr, 0, 8, "indptr");
    GET(o_counts, 0, 4, "counts");
    GET(o_passages, 0, 4, "passages");
    GET(o_term, 0, 8, "term_factor");
    GET(o_row, 0, 8, "row_factor");
    GET(o_out, 1, 4, "out");
    GET(o_max, 1, 4, "term_max");
    Py_buffer *table = NULL;
    if (o_table != Py_None) { GET(o_table, 0, 8, "tf_table"); table = &b[got - 1]; }
    Weigh W;
    W.indptr = b[0].buf;
    W.counts = b[1].buf;
    W.passages = b[2].buf;
    W.term_factor = b[3].buf;
    W.row_factor = b[4].buf;
    W.out = b[5].buf;
    W.term_max = b[6].buf;
    W.tf_table = table ? table->buf : NULL;
    W.table_len = table ? table->len / 8 : 0;
    W.n_terms = b[0].len / 8 - 1;
    W.nnz = b[1].len / 4;
    W.n_passages = b[4].len / 8;
    W.kind = kind;
    W.k1 = k1;
    W.k1p1 = k1 + 1; /* Python's `k1 + 1`, a double */
    W.delta = delta;
    if (W.n_terms < 0 || b[2].len / 4 != W.nnz || b[5].len / 4 != W.nnz || b[3].len / 8 != W.n_terms ||
        b[6].len / 4 != W.n_terms || kind < WEIGH_TFIDF || kind > WEIGH_BM25L) {
        PyErr_SetString(PyExc_ValueError, "arrays of mismatched lengths, or an unknown kind");
        goto out;
    }
    Py_BEGIN_ALLOW_THREADS
    status = weigh_run(&W);
    Py_END_ALLOW_THREADS
    if (status < 0) {
        PyErr_SetString(PyExc_ValueError, "term rows, passage numbers or counts out of range");
        goto out;
    }
    result = Py_None;
    Py_INCREF(result);
out:
    for (int i = 0; i < got; i++) PyBuffer_Release(&b[i]);
    return result;
}

static PyMethodDef methods[] = {
    {"topk", topk, METH_VARARGS, topk_doc},
    {"topk_dense", topk_dense, METH_VARARGS, topk_dense_doc},
    {"topk_many", topk_many, METH_VARARGS, topk_many_doc},
    {"weigh", weigh, METH_VARARGS, weigh_doc},
    {"find_terms", find_terms, METH_VARARGS, find_terms_doc},
    {"take_strings", take_strings, METH_VARARGS, take_strings_doc},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_topk", "Exact top-k for term-major weights (MaxScore), the weights themselves, and query-time string look-ups.",
                                    -1, methods};

PyMODINIT_FUNC PyInit__topk(void) { return PyModule_Create(&module); }
