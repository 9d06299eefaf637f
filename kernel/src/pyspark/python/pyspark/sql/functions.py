"""`pyspark.sql.functions`: PySpark's signatures over the engine's function
registry. Where PySpark takes a column or a column name, a string is a
column name; where it takes a value (a format, a scale), it is a literal."""

import builtins as _builtins
import decimal

from _kiln_pyspark import Column, broadcast, call as _call, col, expr, lit, when

column = col


def _c(value):
    """A Column from a Column or a column name."""
    if isinstance(value, Column):
        return value
    if isinstance(value, str):
        return col(value)
    from pyspark.errors import PySparkTypeError

    raise PySparkTypeError(
        f"[NOT_EXPECTED_TYPE] Argument `col` should be Column or str, got {type(value).__name__}."
    )


def _v(value):
    """A Column as it is, any other value as a literal."""
    return value if isinstance(value, Column) else lit(value)


def _fn(name, *cols):
    return _call(name, *[_c(c) for c in cols])


def _one(name):
    def function(col):
        return _call(name, _c(col))

    function.__name__ = name
    function.__doc__ = f"`{name}(col)`."
    return function


def _many(name):
    def function(*cols):
        if len(cols) == 1 and isinstance(cols[0], (list, tuple)):
            cols = tuple(cols[0])
        return _call(name, *[_c(c) for c in cols])

    function.__name__ = name
    function.__doc__ = f"`{name}(*cols)`."
    return function


# Aggregates.
max = _one("max")
min = _one("min")
sum = _one("sum")
avg = _one("avg")
mean = _one("mean")
first_value = _one("first_value")
last_value = _one("last_value")
collect_list = _one("collect_list")
collect_set = _one("collect_set")
stddev = _one("stddev")
stddev_samp = _one("stddev_samp")
stddev_pop = _one("stddev_pop")
variance = _one("variance")
var_samp = _one("var_samp")
var_pop = _one("var_pop")
skewness = _one("skewness")
kurtosis = _one("kurtosis")
any_value = _one("any_value")
std = _one("std")
count_if = _one("count_if")
bool_and = _one("bool_and")
bool_or = _one("bool_or")
every = _one("every")
some = _one("some")


def max_by(col, ord, k=None):
    if k is None:
        return _fn("max_by", col, ord)
    return _call("max_by", _c(col), _c(ord), lit(k))


def min_by(col, ord, k=None):
    if k is None:
        return _fn("min_by", col, ord)
    return _call("min_by", _c(col), _c(ord), lit(k))


def monotonically_increasing_id():
    return _call("monotonically_increasing_id")


def spark_partition_id():
    return _call("spark_partition_id")


def _seed(seed):
    """A given seed, or one drawn as Spark draws it, shown in the column's name."""
    if seed is None:
        import random as _random

        seed = _random.randint(-(2**63), 2**63 - 1)
    return lit(seed)


def rand(seed=None):
    return _call("rand", _seed(seed))


def randn(seed=None):
    return _call("randn", _seed(seed))


def random(seed=None):
    return _call("rand", _seed(seed))


def _two(name):
    def function(col1, col2):
        return _fn(name, col1, col2)

    function.__name__ = name
    function.__doc__ = f"`{name}(col1, col2)`."
    return function


corr = _two("corr")
covar_samp = _two("covar_samp")
covar_pop = _two("covar_pop")


def mode(col, deterministic=False):
    if deterministic:
        return _call("mode", _c(col), lit(True))
    return _call("mode", _c(col))


def listagg(col, delimiter=None):
    return _call("listagg", _c(col), _v(delimiter))


def string_agg(col, delimiter=None):
    return _call("string_agg", _c(col), _v(delimiter))


def _percentages(percentage):
    if isinstance(percentage, Column):
        return percentage
    if isinstance(percentage, (list, tuple)):
        return array(*[lit(float(p)) for p in percentage])
    return lit(float(percentage))


def percentile_approx(col, percentage, accuracy=10000):
    """The value at rank `ceil(percentage * n)` of the column's non-null
    values (exact; Spark's answer is within `1 / accuracy` of this rank)."""
    return _call("percentile_approx", _c(col), _percentages(percentage), _v(accuracy))


def approx_percentile(col, percentage, accuracy=10000):
    return _call("approx_percentile", _c(col), _percentages(percentage), _v(accuracy))


def percentile(col, percentage, frequency=1):
    return _call("percentile", _c(col), _percentages(percentage), _v(frequency))


def median(col):
    return _call("median", _c(col))


def approx_count_distinct(col, rsd=None):
    if rsd is None:
        return _call("approx_count_distinct", _c(col))
    return _call("approx_count_distinct", _c(col), lit(rsd))


approxCountDistinct = approx_count_distinct


def count(col):
    if isinstance(col, str) and col == "*":
        return _call("count", lit(1))
    return _call("count", _c(col))


def countDistinct(col, *cols):
    return _call("count", *[_c(c) for c in (col,) + cols], distinct=True)


count_distinct = countDistinct


def sum_distinct(col):
    return _call("sum", _c(col), distinct=True)


sumDistinct = sum_distinct


def first(col, ignorenulls=False):
    return _call("first", _c(col), lit(ignorenulls)) if ignorenulls else _call("first", _c(col))


def last(col, ignorenulls=False):
    return _call("last", _c(col), lit(ignorenulls)) if ignorenulls else _call("last", _c(col))


# Window functions (with `.over(window)`).
def row_number():
    return _call("row_number")


def rank():
    return _call("rank")


def dense_rank():
    return _call("dense_rank")


def percent_rank():
    return _call("percent_rank")


def cume_dist():
    return _call("cume_dist")


def ntile(n):
    return _call("ntile", lit(n))


def lag(col, offset=1, default=None):
    return _call("lag", _c(col), lit(offset), lit(default))


def lead(col, offset=1, default=None):
    return _call("lead", _c(col), lit(offset), lit(default))


def nth_value(col, offset, ignoreNulls=False):
    return _call("nth_value", _c(col), lit(offset), lit(ignoreNulls))


# Sorting.
def asc(col):
    return _c(col).asc()


def desc(col):
    return _c(col).desc()


def asc_nulls_first(col):
    return _c(col).asc_nulls_first()


def asc_nulls_last(col):
    return _c(col).asc_nulls_last()


def desc_nulls_first(col):
    return _c(col).desc_nulls_first()


def desc_nulls_last(col):
    return _c(col).desc_nulls_last()


# Arrays and maps.
array = _many("array")
create_map = _many("map")
size = _one("size")
cardinality = _one("cardinality")
explode = _one("explode")
explode_outer = _one("explode_outer")
posexplode = _one("posexplode")
posexplode_outer = _one("posexplode_outer")
inline = _one("inline")
inline_outer = _one("inline_outer")
stack = _many("stack")


def array_contains(col, value):
    return _call("array_contains", _c(col), _v(value))


def sequence(start, stop, step=None):
    if step is None:
        return _fn("sequence", start, stop)
    return _fn("sequence", start, stop, step)


map_keys = _one("map_keys")
map_values = _one("map_values")
hash = _many("hash")


def element_at(col, extraction):
    return _call("element_at", _c(col), _v(extraction))


def sort_array(col, asc=True):
    return _call("sort_array", _c(col), lit(asc))


# Conditions and nulls.
coalesce = _many("coalesce")
greatest = _many("greatest")
least = _many("least")
isnull = _one("isnull")
isnotnull = _one("isnotnull")
isnan = _one("isnan")


def ifnull(col1, col2):
    return _fn("ifnull", col1, col2)


nvl = ifnull


def nullif(col1, col2):
    return _fn("nullif", col1, col2)


# Math.
abs = _one("abs")
sqrt = _one("sqrt")
cbrt = _one("cbrt")
exp = _one("exp")
floor = _one("floor")
ceil = _one("ceil")
ceiling = _one("ceiling")
log10 = _one("log10")
log2 = _one("log2")
ln = _one("ln")
signum = _one("signum")


def log(arg1, arg2=None):
    if arg2 is None:
        return _call("ln", _c(arg1))
    return _call("log", lit(arg1), _c(arg2))


def pow(col1, col2):
    return _call("power", col1 if isinstance(col1, Column) else (col(col1) if isinstance(col1, str) else lit(col1)),
                 col2 if isinstance(col2, Column) else (col(col2) if isinstance(col2, str) else lit(col2)))


power = pow


def round(col, scale=None):
    return _call("round", _c(col), lit(0 if scale is None else scale))


def bround(col, scale=None):
    return _call("bround", _c(col), lit(0 if scale is None else scale))


# Strings.
upper = _one("upper")
lower = _one("lower")
trim = _one("trim")
ltrim = _one("ltrim")
rtrim = _one("rtrim")
length = _one("length")
reverse = _one("reverse")
concat = _many("concat")
initcap = _one("initcap")
lcase = _one("lcase")
ucase = _one("ucase")
char_length = _one("char_length")


def substr(str, pos, len=None):
    if len is None:
        return _fn("substr", str, pos)
    return _fn("substr", str, pos, len)


def like(str, pattern, escapeChar=None):
    if escapeChar is None:
        return _fn("like", str, pattern)
    return _call("like", _c(str), _c(pattern), escapeChar)


def ilike(str, pattern, escapeChar=None):
    if escapeChar is None:
        return _fn("ilike", str, pattern)
    return _call("ilike", _c(str), _c(pattern), escapeChar)


def rlike(str, regexp):
    return _fn("rlike", str, regexp)


def regexp(str, regexp):
    return _fn("regexp", str, regexp)


def regexp_like(str, regexp):
    return _fn("regexp_like", str, regexp)


def translate(srcCol, matching, replace):
    return _call("translate", _c(srcCol), lit(matching), lit(replace))


def concat_ws(sep, *cols):
    return _call("concat_ws", lit(sep), *[_c(c) for c in cols])


def substring(str, pos, len):
    return _call("substring", _c(str), lit(pos), lit(len))


def split(str, pattern, limit=-1):
    return _call("split", _c(str), lit(pattern), lit(limit))


def regexp_replace(string, pattern, replacement):
    return _call("regexp_replace", _c(string), _v(pattern), _v(replacement))


def regexp_extract(str, pattern, idx):
    return _call("regexp_extract", _c(str), lit(pattern), lit(idx))


def lpad(col, len, pad):
    return _call("lpad", _c(col), lit(len), lit(pad))


def rpad(col, len, pad):
    return _call("rpad", _c(col), lit(len), lit(pad))


def instr(str, substr):
    return _call("instr", _c(str), lit(substr))


def contains(left, right):
    return _fn("contains", left, right)


def startswith(str, prefix):
    return _fn("startswith", str, prefix)


def endswith(str, suffix):
    return _fn("endswith", str, suffix)


# Dates and times.
year = _one("year")
month = _one("month")
dayofmonth = _one("dayofmonth")
dayofyear = _one("dayofyear")
dayofweek = _one("dayofweek")
hour = _one("hour")
minute = _one("minute")
second = _one("second")
quarter = _one("quarter")
weekofyear = _one("weekofyear")
last_day = _one("last_day")
day = _one("day")


def months_between(date1, date2, roundOff=True):
    return _call("months_between", _c(date1), _c(date2), lit(roundOff))


def date_part(field, source):
    return _call("date_part", field, _c(source))


def extract(field, source):
    return _call("extract", field, _c(source))


def now():
    return _call("now")


def current_date():
    return _call("current_date")


def current_timestamp():
    return _call("current_timestamp")


def to_date(col, format=None):
    if format is None:
        return _call("to_date", _c(col))
    return _call("to_date", _c(col), lit(format))


def to_timestamp(col, format=None):
    if format is None:
        return _call("to_timestamp", _c(col))
    return _call("to_timestamp", _c(col), lit(format))


def date_format(date, format):
    return _call("date_format", _c(date), lit(format))


def trunc(date, format):
    return _call("trunc", _c(date), lit(format))


def date_trunc(format, timestamp):
    return _call("date_trunc", lit(format), _c(timestamp))


def datediff(end, start):
    return _fn("datediff", end, start)


def _count_or_column(value):
    """An int argument as a literal; a column or a column's name as a column."""
    return lit(value) if isinstance(value, int) else _c(value)


def date_add(start, days):
    return _call("date_add", _c(start), _count_or_column(days))


def date_sub(start, days):
    return _call("date_sub", _c(start), _count_or_column(days))


def add_months(start, months):
    return _call("add_months", _c(start), _count_or_column(months))


def make_date(year, month, day):
    return _call("make_date", _c(year), _c(month), _c(day))


def make_dt_interval(days=None, hours=None, mins=None, secs=None):
    parts = [days, hours, mins]
    args = [lit(0) if p is None else _c(p) for p in parts]
    args.append(lit(decimal.Decimal(0)) if secs is None else _c(secs))
    return _call("make_dt_interval", *args)


def make_ym_interval(years=None, months=None):
    return _call("make_ym_interval", *[lit(0) if p is None else _c(p) for p in (years, months)])


def pmod(dividend, divisor):
    def operand(value):
        return lit(value) if isinstance(value, (int, float)) else _c(value)

    return _call("pmod", operand(dividend), operand(divisor))


def unix_timestamp(timestamp=None, format="yyyy-MM-dd HH:mm:ss"):
    if timestamp is None:
        return _call("unix_timestamp")
    return _call("unix_timestamp", _c(timestamp), lit(format))


def from_unixtime(timestamp, format="yyyy-MM-dd HH:mm:ss"):
    return _call("from_unixtime", _c(timestamp), lit(format))


__all__ = [n for n in dir() if not n.startswith("_") and n != "builtins"]


def pandas_udf(f=None, returnType=None, functionType=None):
    """`F.pandas_udf`: a function over pandas Series, called once per batch
    (needs pandas and pyarrow, as PySpark's does)."""
    from pyspark.sql.pandas.functions import pandas_udf as create

    return create(f, returnType, functionType)


def udf(f=None, returnType=None, *, useArrow=None):
    """`F.udf(fn, returnType)`, `@F.udf`, `@F.udf("int")`,
    `@F.udf(returnType=...)`: a Python function applied row by row."""
    from pyspark.sql.types import DataType, StringType
    from pyspark.sql.udf import _create_udf

    if returnType is None:
        returnType = StringType()
    if f is None or isinstance(f, (str, DataType)):
        return_type = f or returnType
        return lambda fn: _create_udf(fn, return_type)
    return _create_udf(f, returnType)


# Conditionals, structs and types.
def nvl2(col1, col2, col3):
    return _fn("nvl2", col1, col2, col3)


struct = _many("struct")


def named_struct(*cols):
    return _fn("named_struct", *cols)


typeof = _one("typeof")
sign = _one("sign")
negative = _one("negative")
positive = _one("positive")
sec = _one("sec")


def array_sort(col, comparator=None):
    if comparator is not None:
        from pyspark.errors import PySparkNotImplementedError

        raise PySparkNotImplementedError(
            "[NOT_IMPLEMENTED] array_sort with a comparator function is not implemented in Kiln."
        )
    return _call("array_sort", _c(col))


# Math.
def _num(value):
    """A Column, a column name, or a number as a literal."""
    return lit(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else _c(value)


sin = _one("sin")
cos = _one("cos")
tan = _one("tan")
asin = _one("asin")
acos = _one("acos")
atan = _one("atan")
sinh = _one("sinh")
cosh = _one("cosh")
tanh = _one("tanh")
cot = _one("cot")
degrees = _one("degrees")
radians = _one("radians")
log1p = _one("log1p")
expm1 = _one("expm1")
rint = _one("rint")
signum = _one("signum")
factorial = _one("factorial")


def atan2(col1, col2):
    return _call("atan2", _num(col1), _num(col2))


def hypot(col1, col2):
    return _call("hypot", _num(col1), _num(col2))


def pi():
    return _call("pi")


def e():
    return _call("e")


# More strings, hashes and encodings.
ascii = _one("ascii")
bit_length = _one("bit_length")
octet_length = _one("octet_length")
md5 = _one("md5")
sha1 = _one("sha1")
crc32 = _one("crc32")
base64 = _one("base64")
unbase64 = _one("unbase64")
hex = _one("hex")
unhex = _one("unhex")
chr = _one("chr")


def sha2(col, numBits):
    return _call("sha2", _c(col), lit(numBits))


def left(str, len):
    return _fn("left", str, len)


def right(str, len):
    return _fn("right", str, len)


def repeat(col, n):
    return _call("repeat", _c(col), _v(n))


def replace(src, search, replace=None):
    return _call("replace", _c(src), _c(search), lit("") if replace is None else _c(replace))


def split_part(src, delimiter, partNum):
    return _fn("split_part", src, delimiter, partNum)


def substring_index(str, delim, count):
    return _call("substring_index", _c(str), lit(delim), lit(count))


def locate(substr, str, pos=1):
    return _call("locate", lit(substr), _c(str), lit(pos))


def position(substr, str, start=None):
    if start is None:
        return _fn("position", substr, str)
    return _fn("position", substr, str, start)


def levenshtein(left, right, threshold=None):
    if threshold is not None:
        from pyspark.errors import PySparkNotImplementedError

        raise PySparkNotImplementedError(
            "[NOT_IMPLEMENTED] levenshtein with a threshold is not implemented in Kiln."
        )
    return _fn("levenshtein", left, right)


# Epochs, zones and calendar names.
timestamp_seconds = _one("timestamp_seconds")
timestamp_millis = _one("timestamp_millis")
timestamp_micros = _one("timestamp_micros")
unix_seconds = _one("unix_seconds")
unix_millis = _one("unix_millis")
unix_micros = _one("unix_micros")
unix_date = _one("unix_date")
date_from_unix_date = _one("date_from_unix_date")
dayname = _one("dayname")
monthname = _one("monthname")
weekday = _one("weekday")


def to_utc_timestamp(timestamp, tz):
    return _call("to_utc_timestamp", _c(timestamp), _v(tz))


def from_utc_timestamp(timestamp, tz):
    return _call("from_utc_timestamp", _c(timestamp), _v(tz))


def next_day(date, dayOfWeek):
    return _call("next_day", _c(date), lit(dayOfWeek))


def date_diff(end, start):
    return _fn("date_diff", end, start)


def dateadd(start, days):
    return _call("dateadd", _c(start), _v(days))


def try_divide(left, right):
    return _fn("try_divide", left, right)


# More arrays.
array_distinct = _one("array_distinct")
array_max = _one("array_max")
array_min = _one("array_min")


def array_position(col, value):
    return _call("array_position", _c(col), _v(value))


def array_remove(col, element):
    return _call("array_remove", _c(col), _v(element))


def array_union(col1, col2):
    return _fn("array_union", col1, col2)


def array_intersect(col1, col2):
    return _fn("array_intersect", col1, col2)


def array_except(col1, col2):
    return _fn("array_except", col1, col2)


def arrays_overlap(a1, a2):
    return _fn("arrays_overlap", a1, a2)


def array_join(col, delimiter, null_replacement=None):
    if null_replacement is None:
        return _call("array_join", _c(col), lit(delimiter))
    return _call("array_join", _c(col), lit(delimiter), lit(null_replacement))


def slice(x, start, length):
    return _call("slice", _c(x), _v(start), _v(length))


def get_json_object(col, path):
    return _call("get_json_object", _c(col), lit(path))
