/*
 * oracle.c: libfuzzy's fuzzy_compare as a test oracle for
 * misp-correlate's ssdeep module.
 *
 * This program is only used to (re)build compare-vectors.tsv; the Rust
 * tests read the committed vectors and never need libfuzzy.
 *
 * Rebuild the vectors (Debian/Ubuntu):
 *
 *     apt-get install -y libfuzzy-dev
 *     testdata/ssdeep/make-vectors.sh
 *
 * which compiles this file with `cc -O2 oracle.c -lfuzzy` and runs
 *
 *     oracle compare  < edge-cases.tsv   hand-written pairs
 *     oracle generate SEED FILES STRINGS  generated pairs
 *
 * Output lines are `hash_a TAB hash_b TAB score`, where score is exactly
 * what libfuzzy's fuzzy_compare(hash_a, hash_b) returned (-1 = libfuzzy
 * refused the input). Lines starting with '#' are comments and are copied
 * through by `compare`.
 *
 * `generate` is deterministic for a given SEED and libfuzzy version:
 *   - FILES pairs of real hashes (fuzzy_hash_buf) of a random buffer and
 *     a mutated copy (byte edits, inserted/deleted chunks, truncation,
 *     appends that cross a block-size boundary, splices, unrelated
 *     buffers), so that the scores spread over 0..100 and the block sizes
 *     are equal, doubled or quadrupled;
 *   - STRINGS pairs of synthetic hash strings (MISP-valid syntax) with
 *     shared substrings, runs of identical characters, empty and short
 *     parts, parts that only fit in 64 characters after sequence
 *     elimination and parts that do not, and unusual block sizes
 *     (0, odd, leading zeros, near and above 2^64).
 *
 * Copyright the misp-correlate authors. AGPL-3.0-only, like the crate.
 */

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fuzzy.h>

/* ---- deterministic PRNG (splitmix64) ---------------------------------- */

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). n must be > 0. */
static size_t rng_below(size_t n)
{
	return (size_t)(rng_next() % n);
}

/* Uniform in [lo, hi]. */
static size_t rng_range(size_t lo, size_t hi)
{
	return lo + rng_below(hi - lo + 1);
}

/* ---- output ------------------------------------------------------------ */

static void emit(const char *a, const char *b)
{
	printf("%s\t%s\t%d\n", a, b, fuzzy_compare(a, b));
}

/* ---- `compare`: score hand-written pairs -------------------------------- */

static int run_compare(void)
{
	char line[65536];
	while (fgets(line, sizeof line, stdin) != NULL) {
		size_t len = strlen(line);
		char *tab;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (line[0] == '#') {
			puts(line);
			continue;
		}
		tab = strchr(line, '\t');
		if (tab == NULL) {
			fprintf(stderr, "oracle: no TAB in line: %s\n", line);
			return 1;
		}
		*tab = '\0';
		emit(line, tab + 1);
	}
	return 0;
}

/* ---- `generate`: real hashes of mutated buffers ------------------------ */

struct buf {
	unsigned char *data;
	size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t cap)
{
	if (cap <= b->cap)
		return;
	b->data = realloc(b->data, cap);
	if (b->data == NULL) {
		perror("oracle");
		exit(1);
	}
	b->cap = cap;
}

static void buf_copy(struct buf *dst, const struct buf *src)
{
	buf_reserve(dst, src->len + 1);
	memcpy(dst->data, src->data, src->len);
	dst->len = src->len;
}

/* Content with some structure: random bytes mixed with words from a small
 * vocabulary, like text or code. */
static void fill_random(struct buf *b, size_t len)
{
	static const struct {
		const char *bytes;
		size_t len;
	} words[] = {
		{"the ", 4}, {"MISP ", 5}, {"event ", 6}, {"attribute ", 10},
		{"\0\0\0\0\0\0\0\0", 8}, {"\xff\xfe", 2}, {"malware ", 8},
		{"\n", 1}, {"0123456789", 10}, {"<html>", 6}, {"</div>", 6},
		{"    ", 4}, {"return 0;", 9},
	};
	size_t i = 0;
	int text = (int)rng_below(3); /* 0 random, 1 mixed, 2 mostly words */
	buf_reserve(b, len + 1);
	while (i < len) {
		if (text > 0 && rng_below(4) < (size_t)text + 1) {
			size_t w = rng_below(sizeof words / sizeof *words), j;
			for (j = 0; j < words[w].len && i < len; j++)
				b->data[i++] = (unsigned char)words[w].bytes[j];
		} else {
			b->data[i++] = (unsigned char)rng_next();
		}
	}
	b->len = len;
}

static void insert_bytes(struct buf *b, size_t at, const unsigned char *src, size_t n)
{
	buf_reserve(b, b->len + n + 1);
	memmove(b->data + at + n, b->data + at, b->len - at);
	memcpy(b->data + at, src, n);
	b->len += n;
}

static void delete_bytes(struct buf *b, size_t at, size_t n)
{
	if (at + n > b->len)
		n = b->len - at;
	memmove(b->data + at, b->data + at + n, b->len - at - n);
	b->len -= n;
}

/* Applies one random mutation of random intensity. */
static void mutate(struct buf *b, struct buf *scratch)
{
	size_t k, n, i;
	switch (rng_below(8)) {
	case 0: /* scattered byte edits */
	case 1:
		k = rng_range(1, 1 + b->len / rng_range(8, 2000));
		for (i = 0; i < k && b->len > 0; i++)
			b->data[rng_below(b->len)] = (unsigned char)rng_next();
		break;
	case 2: /* inserted random chunks */
		k = rng_range(1, 6);
		for (i = 0; i < k; i++) {
			n = rng_range(1, 1 + b->len / rng_range(4, 100));
			fill_random(scratch, n);
			insert_bytes(b, rng_below(b->len + 1), scratch->data, n);
		}
		break;
	case 3: /* deleted chunks */
		k = rng_range(1, 6);
		for (i = 0; i < k && b->len > 1; i++)
			delete_bytes(b, rng_below(b->len), rng_range(1, 1 + b->len / rng_range(4, 100)));
		break;
	case 4: /* truncation */
		if (b->len > 1)
			b->len -= rng_range(1, b->len / rng_range(2, 20) + 1) % b->len;
		break;
	case 5: /* append: often crosses a block-size boundary */
		n = rng_range(1, b->len + 1);
		fill_random(scratch, n);
		insert_bytes(b, b->len, scratch->data, n);
		break;
	case 6: /* block moves: cut a chunk and paste it elsewhere */
		if (b->len > 16) {
			size_t at = rng_below(b->len / 2), len = rng_range(1, b->len / 4);
			buf_reserve(scratch, len + 1);
			memcpy(scratch->data, b->data + at, len);
			delete_bytes(b, at, len);
			insert_bytes(b, rng_below(b->len + 1), scratch->data, len);
		}
		break;
	default: /* duplicate the buffer (block size x2 or x4) */
		n = b->len;
		k = rng_range(1, 3);
		buf_reserve(b, n * (k + 1) + 1);
		for (i = 0; i < k; i++)
			insert_bytes(b, b->len, b->data, n);
		break;
	}
}

static void hash_buf(const struct buf *b, char *out)
{
	if (fuzzy_hash_buf(b->data, (uint32_t)b->len, out) != 0) {
		fprintf(stderr, "oracle: fuzzy_hash_buf failed\n");
		exit(1);
	}
}

static void generate_files(size_t count)
{
	struct buf base = {0}, other = {0}, scratch = {0};
	char ha[FUZZY_MAX_RESULT], hb[FUZZY_MAX_RESULT];
	size_t p, m, rounds;
	for (p = 0; p < count; p++) {
		/* Size log-uniform between 64 bytes and 512 KiB; a quarter of
		 * the buffers sit just below a block-size boundary
		 * (192 * 2^k bytes) so that small appends double it. */
		size_t len;
		if (rng_below(4) == 0)
			len = (size_t)192 << rng_range(0, 11);
		else
			len = (size_t)64 << rng_range(0, 13);
		len = rng_range(len / 2 + 1, len);
		fill_random(&base, len);
		if (rng_below(12) == 0) {
			/* unrelated buffer of a similar size */
			fill_random(&other, rng_range(len / 2 + 1, len * 2));
		} else {
			buf_copy(&other, &base);
			rounds = rng_range(1, rng_below(3) == 0 ? 8 : 2);
			for (m = 0; m < rounds; m++)
				mutate(&other, &scratch);
		}
		hash_buf(&base, ha);
		hash_buf(&other, hb);
		if (rng_below(2) == 0)
			emit(ha, hb);
		else
			emit(hb, ha);
	}
	free(base.data);
	free(other.data);
	free(scratch.data);
}

/* ---- `generate`: synthetic hash strings -------------------------------- */

static const char b64[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* A small alphabet makes accidental 7-gram matches and runs likely. */
static char rand_char(int small)
{
	return small ? b64[rng_below(4)] : b64[rng_below(64)];
}

/* Random part of length len, with runs of identical characters. */
static void rand_part(char *out, size_t len, int small, int runs)
{
	size_t i = 0;
	while (i < len) {
		char c = rand_char(small);
		size_t n = 1;
		if (runs && rng_below(5) == 0)
			n = rng_range(2, 12);
		while (n-- > 0 && i < len)
			out[i++] = c;
	}
	out[len] = '\0';
}

/* Copies src into out with a few random edits (substitutions, insertions,
 * deletions) so the two share substrings. out holds at least 200 bytes. */
static void related_part(char *out, const char *src, int small)
{
	size_t len = strlen(src), i, o = 0;
	size_t rate = rng_range(3, 40);
	for (i = 0; i < len && o < 190; i++) {
		switch (rng_below(rate)) {
		case 0: /* substitute */
			out[o++] = rand_char(small);
			break;
		case 1: /* delete */
			break;
		case 2: /* insert */
			out[o++] = rand_char(small);
			out[o++] = src[i];
			break;
		default:
			out[o++] = src[i];
		}
	}
	out[o] = '\0';
}

static size_t rand_part_len(void)
{
	switch (rng_below(6)) {
	case 0:
		return rng_range(0, 8); /* short, below the 7-gram */
	case 1:
		return rng_range(60, 100); /* around and above 64 */
	default:
		return rng_range(7, 64);
	}
}

static unsigned long long rand_block_size(void)
{
	switch (rng_below(10)) {
	case 0:
	case 1:
		return rng_range(0, 50); /* irregular, small-block cap */
	case 2:
		return 3ULL << rng_range(55, 62); /* near ULONG_MAX / 2 */
	case 3:
		return ~0ULL - rng_range(0, 3);
	default:
		return 3ULL << rng_range(0, 20);
	}
}

static void format_hash(char *out, size_t outsize, const char *bs,
			const char *p1, const char *p2)
{
	snprintf(out, outsize, "%s:%s:%s", bs, p1, p2);
}

static void generate_strings(size_t count)
{
	char a1[200], a2[200], b1[200], b2[200];
	char bsa[64], bsb[64], ha[700], hb[700];
	size_t p;
	for (p = 0; p < count; p++) {
		int small = rng_below(4) == 0;
		int runs = rng_below(2) == 0;
		unsigned long long bs = rand_block_size(), bs2;
		rand_part(a1, rand_part_len(), small, runs);
		rand_part(a2, rand_part_len() / (rng_below(2) + 1), small, runs);
		switch (rng_below(8)) {
		case 0: /* unrelated parts */
			rand_part(b1, rand_part_len(), small, runs);
			rand_part(b2, rand_part_len(), small, runs);
			break;
		case 1: /* identical, possibly with differently long runs */
			strcpy(b1, a1);
			strcpy(b2, a2);
			break;
		default:
			related_part(b1, a1, small);
			related_part(b2, a2, small);
		}
		/* Block size relation: equal, doubled, halved, x4, other. */
		switch (rng_below(10)) {
		case 0:
		case 1:
			bs2 = bs * 2;
			/* The second part of a is related to the first of b. */
			related_part(b1, a2, small);
			break;
		case 2:
		case 3:
			bs2 = bs / 2;
			related_part(b2, a1, small);
			break;
		case 4:
			bs2 = bs * 4;
			break;
		case 5:
			bs2 = bs + 1;
			break;
		default:
			bs2 = bs;
		}
		snprintf(bsa, sizeof bsa, "%llu", bs);
		snprintf(bsb, sizeof bsb, "%llu", bs2);
		switch (rng_below(30)) {
		case 0: /* leading zeros */
			snprintf(bsa, sizeof bsa, "000%llu", bs);
			break;
		case 1: /* overflows unsigned long: strtoul saturates */
			snprintf(bsa, sizeof bsa, "%llu0", bs);
			snprintf(bsb, sizeof bsb, "%llu00", bs2);
			break;
		}
		format_hash(ha, sizeof ha, bsa, a1, a2);
		format_hash(hb, sizeof hb, bsb, b1, b2);
		emit(ha, hb);
	}
}

int main(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "compare") == 0)
		return run_compare();
	if (argc == 5 && strcmp(argv[1], "generate") == 0) {
		rng_state = strtoull(argv[2], NULL, 10);
		printf("# generated by `oracle generate %s %s %s`: real hashes of mutated buffers\n",
		       argv[2], argv[3], argv[4]);
		generate_files(strtoull(argv[3], NULL, 10));
		printf("# synthetic hash strings\n");
		generate_strings(strtoull(argv[4], NULL, 10));
		return 0;
	}
	fprintf(stderr,
		"usage: oracle compare < pairs.tsv\n"
		"       oracle generate SEED FILE_PAIRS STRING_PAIRS\n");
	return 2;
}
