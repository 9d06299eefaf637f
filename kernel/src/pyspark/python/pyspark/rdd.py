"""`pyspark.rdd`: RDDs of Python objects, evaluated lazily partition by
partition inside the kernel's interpreter (no worker processes, no
pickling). Narrow transformations chain generator functions per partition;
a shuffle (`reduceByKey`, `groupByKey`, `distinct`, `sortBy`, `repartition`)
runs its parent once and keeps the shuffled partitions. Keys are placed as
PySpark places them (`portable_hash(key) % numPartitions`, map outputs read
in partition order), so collected results come out in PySpark's order."""

import bisect
import contextlib
import gc
import itertools
import os
import sys
from collections import defaultdict

from pyspark.errors import PySparkRuntimeError, PySparkValueError
from pyspark.resultiterable import ResultIterable

__all__ = ["RDD", "portable_hash"]

_next_rdd_id = itertools.count()


def portable_hash(x):
    """The hash PySpark partitions keys by: stable across processes when
    PYTHONHASHSEED is set (the Kiln kernel sets it to 0, as Spark does for its
    Python workers)."""
    if "PYTHONHASHSEED" not in os.environ:
        raise PySparkRuntimeError(
            "[PYTHON_HASH_SEED_NOT_SET] Randomness of hash of string should be disabled via PYTHONHASHSEED."
        )
    if x is None:
        return 0
    if isinstance(x, tuple):
        h = 0x345678
        for item in x:
            h ^= portable_hash(item)
            h *= 1000003
            h &= sys.maxsize
        h ^= len(x)
        if h == -1:
            h = -2
        return int(h)
    return hash(x)


@contextlib.contextmanager
def _gc_paused():
    """Pauses the cyclic collector while a result of millions of new tuples
    is built: it would rescan them all again and again (reference counting
    frees memory as usual)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


class RDD:
    """A partitioned collection; `compute(split)` yields partition `split`.
    `num_partitions` is a count, or a function giving it when first asked
    (a DataFrame's RDD knows its count once its query has run)."""

    def __init__(self, ctx, compute, num_partitions, label="PythonRDD[{id}] at RDD at PythonRDD.scala:53"):
        self.ctx = ctx
        self._compute = compute
        self._partition_count = num_partitions
        self.id_ = next(_next_rdd_id)
        self._label = label
        self._cached = None
        self.is_cached = False
        self.is_checkpointed = False

    # -- partitions ---------------------------------------------------------

    @property
    def _num_partitions(self):
        if callable(self._partition_count):
            self._partition_count = self._partition_count()
        return self._partition_count

    def _iterator(self, split):
        if self.is_cached:
            self._materialize()
            return iter(self._cached[split])
        return iter(self._compute(split))

    def _partitions(self):
        return [list(self._iterator(i)) for i in range(self._num_partitions)]

    def _narrow(self, function):
        """A child computing `function(split, parent_iterator)` per partition."""
        parent = self
        return RDD(
            self.ctx,
            lambda split: function(split, parent._iterator(split)),
            lambda: parent._num_partitions,
        )

    def id(self):
        return self.id_

    def getNumPartitions(self):
        return self._num_partitions

    @property
    def context(self):
        return self.ctx

    def __repr__(self):
        return self._label.format(id=self.id_)

    def cache(self):
        self.is_cached = True
        return self

    def persist(self, storageLevel=None):
        return self.cache()

    def unpersist(self, blocking=False):
        self.is_cached = False
        self._cached = None
        return self

    def _materialize(self):
        if self._cached is None:
            self._cached = [list(self._compute(i)) for i in range(self._num_partitions)]

    # -- narrow transformations ---------------------------------------------

    def map(self, f, preservesPartitioning=False):
        return self._narrow(lambda _, it: map(f, it))

    def flatMap(self, f, preservesPartitioning=False):
        return self._narrow(lambda _, it: itertools.chain.from_iterable(map(f, it)))

    def filter(self, f):
        return self._narrow(lambda _, it: filter(f, it))

    def mapPartitions(self, f, preservesPartitioning=False):
        return self._narrow(lambda _, it: f(it))

    def mapPartitionsWithIndex(self, f, preservesPartitioning=False):
        return self._narrow(f)

    def mapPartitionsWithSplit(self, f, preservesPartitioning=False):
        return self._narrow(f)

    def mapValues(self, f):
        return self.map(lambda kv: (kv[0], f(kv[1])))

    def flatMapValues(self, f):
        return self.flatMap(lambda kv: ((kv[0], v) for v in f(kv[1])))

    def keys(self):
        return self.map(lambda kv: kv[0])

    def values(self):
        return self.map(lambda kv: kv[1])

    def keyBy(self, f):
        return self.map(lambda x: (f(x), x))

    def glom(self):
        return self._narrow(lambda _, it: iter([list(it)]))

    def zipWithIndex(self):
        starts = [0]
        for count in [sum(1 for _ in self._iterator(i)) for i in range(self._num_partitions - 1)]:
            starts.append(starts[-1] + count)
        return self._narrow(lambda split, it: ((x, starts[split] + i) for i, x in enumerate(it)))

    def union(self, other):
        left, right = self, other

        def compute(split):
            n = left._num_partitions
            return left._iterator(split) if split < n else right._iterator(split - n)

        return RDD(
            self.ctx,
            compute,
            lambda: left._num_partitions + right._num_partitions,
            label="UnionRDD[{id}] at union at NativeMethodAccessorImpl.java:0",
        )

    def __add__(self, other):
        return self.union(other)

    def coalesce(self, numPartitions, shuffle=False):
        if not numPartitions > 0:
            raise PySparkValueError("Number of partitions must be positive.")
        if shuffle:
            return self.repartition(numPartitions)
        parent = self
        n = min(numPartitions, self._num_partitions) or 1
        total = self._num_partitions

        def compute(split):
            start, end = split * total // n, (split + 1) * total // n
            return itertools.chain.from_iterable(parent._iterator(i) for i in range(start, end))

        return RDD(self.ctx, compute, n, label="CoalescedRDD[{id}] at coalesce at NativeMethodAccessorImpl.java:0")

    def repartition(self, numPartitions):
        """Spark's round-robin shuffle: each source partition, cut into
        batches of 10 elements, deals its batches to consecutive partitions
        from a start drawn from `XORShiftRandom(split)`."""
        if not numPartitions > 0:
            raise PySparkValueError("Number of partitions must be positive.")
        n = numPartitions

        def shuffle(parent):
            buckets = [[] for _ in range(n)]
            for split in range(parent._num_partitions):
                position = _XorShiftRandom(split).next_int(n)
                items = parent._iterator(split)
                while True:
                    batch = list(itertools.islice(items, 10))
                    if not batch:
                        break
                    position += 1
                    buckets[position % n].extend(batch)
            return buckets

        return self._shuffled(shuffle, n)

    # -- shuffles -----------------------------------------------------------

    def _shuffled(self, shuffle, n):
        parent = self
        state = {}

        def compute(split):
            if "buckets" not in state:
                with _gc_paused():
                    state["buckets"] = shuffle(parent)
            return iter(state["buckets"][split])

        return RDD(self.ctx, compute, n)

    def _defaultReducePartitions(self):
        if self.ctx._conf_contains("spark.default.parallelism"):
            return self.ctx.defaultParallelism
        return self._num_partitions

    def partitionBy(self, numPartitions, partitionFunc=portable_hash):
        if numPartitions is None:
            numPartitions = self._defaultReducePartitions()
        n = numPartitions

        def shuffle(parent):
            buckets = [[] for _ in range(n)]
            for split in range(parent._num_partitions):
                for kv in parent._iterator(split):
                    buckets[partitionFunc(kv[0]) % n].append(kv)
            return buckets

        return self._shuffled(shuffle, n)

    def combineByKey(
        self,
        createCombiner,
        mergeValue,
        mergeCombiners,
        numPartitions=None,
        partitionFunc=portable_hash,
    ):
        if numPartitions is None:
            numPartitions = self._defaultReducePartitions()
        n = numPartitions

        def shuffle(parent):
            buckets = [{} for _ in range(n)]
            for split in range(parent._num_partitions):
                local = {}
                for k, v in parent._iterator(split):
                    local[k] = mergeValue(local[k], v) if k in local else createCombiner(v)
                for k, c in local.items():
                    bucket = buckets[partitionFunc(k) % n]
                    bucket[k] = mergeCombiners(bucket[k], c) if k in bucket else c
            return [list(b.items()) for b in buckets]

        return self._shuffled(shuffle, n)

    def reduceByKey(self, func, numPartitions=None, partitionFunc=portable_hash):
        return self.combineByKey(lambda v: v, func, func, numPartitions, partitionFunc)

    def foldByKey(self, zeroValue, func, numPartitions=None, partitionFunc=portable_hash):
        import copy

        return self.combineByKey(
            lambda v: func(copy.deepcopy(zeroValue), v), func, func, numPartitions, partitionFunc
        )

    def aggregateByKey(self, zeroValue, seqFunc, combFunc, numPartitions=None, partitionFunc=portable_hash):
        import copy

        return self.combineByKey(
            lambda v: seqFunc(copy.deepcopy(zeroValue), v), seqFunc, combFunc, numPartitions, partitionFunc
        )

    def groupByKey(self, numPartitions=None, partitionFunc=portable_hash):
        def append(values, v):
            values.append(v)
            return values

        def extend(a, b):
            a.extend(b)
            return a

        return self.combineByKey(lambda v: [v], append, extend, numPartitions, partitionFunc).mapValues(
            ResultIterable
        )

    def groupBy(self, f, numPartitions=None, partitionFunc=portable_hash):
        return self.map(lambda x: (f(x), x)).groupByKey(numPartitions, partitionFunc)

    def distinct(self, numPartitions=None):
        return self.map(lambda x: (x, None)).reduceByKey(lambda x, _: x, numPartitions).map(lambda kv: kv[0])

    def sortByKey(self, ascending=True, numPartitions=None, keyfunc=lambda x: x):
        """Range-partitioned on bounds from a seeded sample of the keys, as
        PySpark picks them, then each partition sorted."""
        if numPartitions is None:
            numPartitions = self._defaultReducePartitions()

        def sort_partition(iterator):
            return iter(sorted(iterator, key=lambda kv: keyfunc(kv[0]), reverse=not ascending))

        if numPartitions == 1:
            source = self.coalesce(1) if self._num_partitions > 1 else self
            return source.mapPartitions(sort_partition)
        size = self.count()
        if not size:
            return self
        fraction = min(numPartitions * 20.0 / max(size, 1), 1.0)
        samples = sorted(self.sample(False, fraction, 1).map(lambda kv: kv[0]).collect(), key=keyfunc)
        bounds = [samples[int(len(samples) * (i + 1) / numPartitions)] for i in range(numPartitions - 1)]

        def range_partition(key):
            p = bisect.bisect_left(bounds, keyfunc(key))
            return p if ascending else numPartitions - 1 - p

        return self.partitionBy(numPartitions, range_partition).mapPartitions(sort_partition)

    def sample(self, withReplacement, fraction, seed=None):
        """Each partition sampled with its own generator seeded by
        `seed ^ split`, as PySpark's sampler does."""
        if fraction < 0.0:
            raise PySparkValueError(f"Fraction must be nonnegative, but got {fraction}")
        import math
        import random

        if seed is None:
            seed = random.randint(0, sys.maxsize)

        def sample_partition(split, iterator):
            generator = random.Random(seed ^ split)
            for _ in range(10):
                generator.randint(0, 1)
            if not withReplacement:
                for obj in iterator:
                    if generator.random() < fraction:
                        yield obj
                return
            for obj in iterator:
                if fraction < 20.0:
                    limit, p, count = math.exp(-fraction), generator.random(), 0
                    while p > limit:
                        count += 1
                        p *= generator.random()
                else:
                    p, count = generator.expovariate(fraction), 0
                    while p < 1.0:
                        count += 1
                        p += generator.expovariate(fraction)
                for _ in range(count):
                    yield obj

        return self._narrow(sample_partition)

    def sortBy(self, keyfunc, ascending=True, numPartitions=None):
        return self.keyBy(keyfunc).sortByKey(ascending, numPartitions).values()

    def join(self, other, numPartitions=None):
        return self._cogrouped(other, numPartitions, "inner")

    def leftOuterJoin(self, other, numPartitions=None):
        return self._cogrouped(other, numPartitions, "left")

    def rightOuterJoin(self, other, numPartitions=None):
        return self._cogrouped(other, numPartitions, "right")

    def fullOuterJoin(self, other, numPartitions=None):
        return self._cogrouped(other, numPartitions, "full")

    def _cogrouped(self, other, numPartitions, how):
        tagged = self.mapValues(lambda v: (0, v)).union(other.mapValues(lambda v: (1, v)))
        if numPartitions is None:
            numPartitions = max(self._num_partitions, other._num_partitions)

        def pairs(values):
            left = [v for side, v in values if side == 0]
            right = [v for side, v in values if side == 1]
            if not left and how in ("right", "full"):
                left = [None]
            if not right and how in ("left", "full"):
                right = [None]
            return [(a, b) for a in left for b in right]

        return tagged.groupByKey(numPartitions).flatMapValues(pairs)

    # -- actions ------------------------------------------------------------

    def collect(self):
        with _gc_paused():
            return [x for split in range(self._num_partitions) for x in self._iterator(split)]

    def count(self):
        return sum(sum(1 for _ in self._iterator(split)) for split in range(self._num_partitions))

    def take(self, num):
        out = []
        for split in range(self._num_partitions):
            if len(out) >= num:
                break
            out.extend(itertools.islice(self._iterator(split), num - len(out)))
        return out

    def first(self):
        rows = self.take(1)
        if rows:
            return rows[0]
        raise PySparkValueError("[RDD_IS_EMPTY] RDD is empty.")

    def isEmpty(self):
        return self._num_partitions == 0 or len(self.take(1)) == 0

    def reduce(self, f):
        partials = []
        for split in range(self._num_partitions):
            it = self._iterator(split)
            try:
                acc = next(it)
            except StopIteration:
                continue
            for x in it:
                acc = f(acc, x)
            partials.append(acc)
        if not partials:
            raise PySparkValueError("[CANNOT_REDUCE_EMPTY_RDD] Cannot reduce empty RDD.")
        acc = partials[0]
        for x in partials[1:]:
            acc = f(acc, x)
        return acc

    def fold(self, zeroValue, op):
        return self.aggregate(zeroValue, op, op)

    def aggregate(self, zeroValue, seqOp, combOp):
        import copy

        acc = copy.deepcopy(zeroValue)
        for split in range(self._num_partitions):
            part = copy.deepcopy(zeroValue)
            for x in self._iterator(split):
                part = seqOp(part, x)
            acc = combOp(acc, part)
        return acc

    def sum(self):
        return self.fold(0, lambda a, b: a + b)

    def max(self, key=None):
        return self.reduce(lambda a, b: max(a, b, key=key) if key else max(a, b))

    def min(self, key=None):
        return self.reduce(lambda a, b: min(a, b, key=key) if key else min(a, b))

    def mean(self):
        values = self.collect()
        return sum(values) / len(values) if values else float("nan")

    def countByKey(self):
        counts = defaultdict(int)
        for k, _ in self.collect():
            counts[k] += 1
        return counts

    def countByValue(self):
        counts = defaultdict(int)
        for x in self.collect():
            counts[x] += 1
        return counts

    def collectAsMap(self):
        return dict(self.collect())

    def lookup(self, key):
        return [v for k, v in self.collect() if k == key]

    def foreach(self, f):
        for split in range(self._num_partitions):
            for x in self._iterator(split):
                f(x)

    def foreachPartition(self, f):
        for split in range(self._num_partitions):
            f(self._iterator(split))

    def top(self, num, key=None):
        import heapq

        return heapq.nlargest(num, self.collect(), key=key)

    def takeOrdered(self, num, key=None):
        import heapq

        return heapq.nsmallest(num, self.collect(), key=key)

    def toDF(self, schema=None, sampleRatio=None):
        return self.ctx._session.createDataFrame(self, schema, sampleRatio)

    def toLocalIterator(self, prefetchPartitions=False):
        for split in range(self._num_partitions):
            yield from self._iterator(split)


_M32 = 0xFFFFFFFF
_M64 = 0xFFFFFFFFFFFFFFFF


def _murmur3_bytes(data, seed):
    """Scala's `MurmurHash3.bytesHash` (whole 4-byte blocks only)."""

    def rotl(x, r):
        return ((x << r) | (x >> (32 - r))) & _M32

    h = seed & _M32
    for i in range(0, len(data) - len(data) % 4, 4):
        k = data[i] | data[i + 1] << 8 | data[i + 2] << 16 | data[i + 3] << 24
        k = rotl((k * 0xCC9E2D51) & _M32, 15)
        h ^= (k * 0x1B873593) & _M32
        h = (rotl(h, 13) * 5 + 0xE6546B64) & _M32
    h ^= len(data)
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    return h ^ (h >> 16)


class _XorShiftRandom:
    """Spark's `XORShiftRandom`: the generator its shuffles seed per partition."""

    def __init__(self, seed):
        data = (seed & _M64).to_bytes(8, "big")
        low = _murmur3_bytes(data, 0x3C074A61)
        high = _murmur3_bytes(data, low)
        self._seed = ((high << 32) | low) & _M64

    def _next(self, bits):
        s = self._seed
        s ^= (s << 21) & _M64
        s ^= s >> 35
        s ^= (s << 4) & _M64
        self._seed = s
        return s & ((1 << bits) - 1)

    def next_int(self, bound):
        """`java.util.Random.nextInt(bound)` over this generator's bits."""
        r = self._next(31)
        m = bound - 1
        if bound & m == 0:
            return (bound * r) >> 31
        u = r
        while True:
            r = u % bound
            if u - r + m < 2**31:
                return r
            u = self._next(31)


def _from_partitions(ctx, partitions, label):
    return RDD(ctx, lambda split: iter(partitions[split]), len(partitions), label=label)


def _from_dataframe(df):
    """`df.rdd`: the query runs once, when a partition is first read; its
    partition count alone (`getNumPartitions`) reads no rows."""
    state = {}

    def partitions():
        if "partitions" not in state:
            with _gc_paused():
                state["partitions"] = df._collect_partitions()
        return state["partitions"]

    def count():
        if "partitions" in state:
            return len(state["partitions"])
        return df.getNumPartitions()

    return RDD(
        df.sparkSession.sparkContext,
        lambda split: iter(partitions()[split]),
        count,
        label="MapPartitionsRDD[{id}] at javaToPython at NativeMethodAccessorImpl.java:0",
    )
