// Finds two UUID-form op ids whose SHA-256s begin with the same 8 bytes: the fixed 64-bit hash
// that reconciliation compared before it was keyed (issue #13 item 7). The pair it printed is
// the test vector of Tests/OpLogReplicationTests/ReconciliationCollisionTests.swift.
//
//   gcc -O2 -o /tmp/find-op-id-collision scripts/find-op-id-collision.c -lcrypto && /tmp/find-op-id-collision 7
//
// Pollard's rho with distinguished points: about 2^32 SHA-256 evaluations (some minutes on one
// core), constant memory. The argument seeds the walk.
#include <openssl/sha.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
static void idOf(uint64_t v, char out[37]) {
  // 8-4-4-4-12 with version 4 and variant 8 fixed: 8+4+3+3 = 18 hex digits carry the 64 bits.
  char h[19]; snprintf(h, sizeof h, "%018llx", (unsigned long long)v);
  snprintf(out, 37, "%.8s-%.4s-4%.3s-8%.3s-000000000000", h, h + 8, h + 12, h + 15);
}
static uint64_t f(uint64_t v) {
  char id[37]; idOf(v, id);
  unsigned char d[32]; SHA256_CTX c; SHA256_Init(&c); SHA256_Update(&c, id, 36); SHA256_Final(d, &c);
  uint64_t r = 0; for (int i = 0; i < 8; i++) r = (r << 8) | d[i];
  return r;
}
#define DBITS 22
#define TABLE (1 << 16)
struct dp { uint64_t point, start, length; int used; };
static struct dp table[TABLE];
int main(int argc, char **argv) {
  uint64_t seed = argc > 1 ? strtoull(argv[1], 0, 10) : 1;
  uint64_t total = 0;
  for (uint64_t chain = 0;; chain++) {
    uint64_t start = (seed * 0x9E3779B97F4A7C15ULL) ^ (chain * 0xBF58476D1CE4E5B9ULL), v = start, n = 0;
    while ((v & ((1ULL << DBITS) - 1)) != 0 && n < (1ULL << (DBITS + 4))) { v = f(v); n++; }
    total += n;
    if (n >= (1ULL << (DBITS + 4))) continue;
    uint64_t slot = (v >> DBITS) % TABLE;
    while (table[slot].used && table[slot].point != v) slot = (slot + 1) % TABLE;
    if (!table[slot].used) { table[slot] = (struct dp){v, start, n, 1}; continue; }
    // Two chains reach the same distinguished point: walk them to where they merge.
    uint64_t a = table[slot].start, la = table[slot].length, b = start, lb = n;
    while (la > lb) { a = f(a); la--; }
    while (lb > la) { b = f(b); lb--; }
    if (a == b) continue;  // one chain starts on the other
    while (f(a) != f(b)) { a = f(a); b = f(b); }
    char ia[37], ib[37]; idOf(a, ia); idOf(b, ib);
    printf("%s %s %016llx after %llu evaluations\n", ia, ib, (unsigned long long)f(a), (unsigned long long)total);
    return 0;
  }
}
