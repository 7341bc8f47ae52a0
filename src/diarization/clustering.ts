/**
 * Embedding maths and agglomerative clustering (average linkage on cosine distance).
 * @module
 */

/** Returns a unit-length copy of `v` (a zero vector stays zero). @internal */
export function l2normalize(v: Float32Array): Float32Array {
  let s = 0;
  for (let i = 0; i < v.length; i++) s += v[i]! * v[i]!;
  const out = new Float32Array(v.length);
  if (s === 0) return out;
  const k = 1 / Math.sqrt(s);
  for (let i = 0; i < v.length; i++) out[i] = v[i]! * k;
  return out;
}

/** Dot product (cosine similarity for unit vectors). @internal */
export function dot(a: Float32Array, b: Float32Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
}

/** Options of {@link agglomerativeCluster}. @internal */
interface AgglomerativeOptions {
  /** Stop merging when the best average cosine similarity between clusters falls below this. */
  readonly threshold: number;
  /** Exact number of clusters wanted; overrides `threshold`. */
  readonly numClusters?: number | undefined;
  /** Fewest clusters allowed when cutting by threshold. */
  readonly minClusters?: number | undefined;
  /** Most clusters allowed when cutting by threshold. */
  readonly maxClusters?: number | undefined;
}

/**
 * Average-linkage dendrogram of unit vectors on cosine distance, with the nearest-neighbour-chain
 * algorithm: O(n²) time, n² floats of memory.
 * @internal
 */
export function dendrogram(vectors: readonly Float32Array[]): Dendrogram {
  const n = vectors.length;
  if (n <= 1) return { n, merges: [] };
  // Distance matrix, full square for simple indexing.
  const d = new Float32Array(n * n);
  for (let i = 0; i < n; i++) {
    const vi = vectors[i]!;
    for (let j = i + 1; j < n; j++) {
      const x = 1 - dot(vi, vectors[j]!);
      d[i * n + j] = x;
      d[j * n + i] = x;
    }
  }
  const size = new Int32Array(n).fill(1);
  const alive = new Uint8Array(n).fill(1);
  const merges: { a: number; b: number; h: number }[] = [];
  const chain: number[] = [];
  let remaining = n;
  while (remaining > 1) {
    if (chain.length === 0) {
      for (let i = 0; i < n; i++) {
        if (alive[i]) {
          chain.push(i);
          break;
        }
      }
    }
    for (;;) {
      const a = chain[chain.length - 1]!;
      const prev = chain.length >= 2 ? chain[chain.length - 2]! : -1;
      // Nearest neighbour of a; prefer prev on ties so the chain terminates.
      let best = prev;
      let bestD = prev >= 0 ? d[a * n + prev]! : Infinity;
      for (let j = 0; j < n; j++) {
        if (j === a || !alive[j]) continue;
        const x = d[a * n + j]!;
        if (x < bestD) {
          bestD = x;
          best = j;
        }
      }
      if (best === prev) {
        chain.pop();
        chain.pop();
        // Merge a and prev into the lower index.
        const keep = Math.min(a, prev);
        const gone = Math.max(a, prev);
        merges.push({ a: keep, b: gone, h: bestD });
        const sk = size[keep]!;
        const sg = size[gone]!;
        for (let j = 0; j < n; j++) {
          if (!alive[j] || j === keep || j === gone) continue;
          const x = (sk * d[keep * n + j]! + sg * d[gone * n + j]!) / (sk + sg);
          d[keep * n + j] = x;
          d[j * n + keep] = x;
        }
        alive[gone] = 0;
        size[keep] = sk + sg;
        remaining--;
        break;
      }
      chain.push(best);
    }
  }
  // Merges in order of height give the dendrogram (average linkage is reducible, so monotone).
  merges.sort((x, y) => x.h - y.h);
  return { n, merges };
}

/** An average-linkage dendrogram: `merges` sorted by height (cosine distance). @internal */
interface Dendrogram {
  readonly n: number;
  readonly merges: readonly { readonly a: number; readonly b: number; readonly h: number }[];
}

/** Number of clusters left when every merge at cosine similarity >= `threshold` is applied. */
function clustersAtThreshold(d: Dendrogram, threshold: number): number {
  const cut = 1 - threshold;
  let applied = 0;
  while (applied < d.merges.length && d.merges[applied]!.h <= cut) applied++;
  return d.n - applied;
}

/** Labels (0.., by first appearance) with the dendrogram cut into `k` clusters. @internal */
export function cutDendrogram(d: Dendrogram, k: number): Int32Array {
  const n = d.n;
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const find = (x: number): number => {
    while (parent[x] !== x) {
      parent[x] = parent[parent[x]!]!;
      x = parent[x]!;
    }
    return x;
  };
  for (let i = 0; i < n - Math.min(n, Math.max(1, k)); i++) {
    const m = d.merges[i]!;
    parent[find(m.b)] = find(m.a);
  }
  return relabelByFirstAppearance(Int32Array.from({ length: n }, (_, i) => find(i)));
}

/**
 * Average-linkage agglomerative clustering of unit vectors on cosine distance, cut at a threshold
 * or at a number of clusters.
 * @returns a cluster index per vector, clusters numbered 0.. in order of first member.
 * @internal
 */
export function agglomerativeCluster(vectors: readonly Float32Array[], options: AgglomerativeOptions): Int32Array {
  const n = vectors.length;
  if (n <= 1) return new Int32Array(n);
  const d = dendrogram(vectors);
  let k: number;
  if (options.numClusters !== undefined) {
    k = Math.min(n, Math.max(1, options.numClusters));
  } else {
    k = clustersAtThreshold(d, options.threshold);
    if (options.maxClusters !== undefined) k = Math.min(k, Math.max(1, options.maxClusters));
    if (options.minClusters !== undefined) k = Math.max(k, Math.min(n, options.minClusters));
  }
  return cutDendrogram(d, k);
}

/** Renumbers labels 0.. in order of first appearance. @internal */
export function relabelByFirstAppearance(labels: Int32Array): Int32Array {
  const map = new Map<number, number>();
  const out = new Int32Array(labels.length);
  labels.forEach((l, i) => {
    let m = map.get(l);
    if (m === undefined) {
      m = map.size;
      map.set(l, m);
    }
    out[i] = m;
  });
  return out;
}

/** Mean of unit vectors per cluster, re-normalised. @internal */
export function centroids(vectors: readonly Float32Array[], labels: Int32Array, k: number): Float32Array[] {
  const dim = vectors[0]?.length ?? 0;
  const sums = Array.from({ length: k }, () => new Float32Array(dim));
  vectors.forEach((v, i) => {
    const s = sums[labels[i]!]!;
    for (let j = 0; j < dim; j++) s[j]! += v[j]!;
  });
  return sums.map(l2normalize);
}

/**
 * Absorbs clusters with fewer than `minSize` members into the nearest remaining cluster (by
 * centroid cosine), smallest first, while more than `minClusters` clusters remain.
 * @internal
 */
export function absorbSmallClusters(
  vectors: readonly Float32Array[],
  labels: Int32Array,
  minSize: number,
  minClusters = 1,
): Int32Array {
  let cur: Int32Array = Int32Array.from(labels);
  for (;;) {
    const k = cur.reduce((a, l) => Math.max(a, l + 1), 0);
    if (k <= Math.max(1, minClusters)) return relabelByFirstAppearance(cur);
    const counts = new Int32Array(k);
    cur.forEach((l) => counts[l]!++);
    let small = -1;
    for (let c = 0; c < k; c++) if (counts[c]! < minSize && (small < 0 || counts[c]! < counts[small]!)) small = c;
    if (small < 0) return relabelByFirstAppearance(cur);
    const cents = centroids(vectors, cur, k);
    let best = -1;
    let bestSim = -Infinity;
    for (let c = 0; c < k; c++) {
      if (c === small) continue;
      const s = dot(cents[small]!, cents[c]!);
      if (s > bestSim) {
        bestSim = s;
        best = c;
      }
    }
    cur = relabelByFirstAppearance(cur.map((l) => (l === small ? best : l)));
  }
}
