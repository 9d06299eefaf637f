"""Spark's data types as PySpark 4 spells them: classes, reprs, `simpleString`,
`typeName`, JSON (the form schemas cross to the engine in) and `Row`."""

import json as _json

from pyspark.errors import (
    PySparkAttributeError,
    PySparkKeyError,
    PySparkRuntimeError,
    PySparkTypeError,
    PySparkValueError,
)


class DataType:
    """The base of every Spark data type."""

    def __repr__(self):
        return self.__class__.__name__ + "()"

    def __hash__(self):
        return hash(str(self))

    def __eq__(self, other):
        return isinstance(other, self.__class__) and self.__dict__ == other.__dict__

    def __ne__(self, other):
        return not self.__eq__(other)

    @classmethod
    def typeName(cls):
        return cls.__name__[: -len("Type")].lower()

    def simpleString(self):
        return self.typeName()

    def jsonValue(self):
        return self.typeName()

    def json(self):
        return _json.dumps(self.jsonValue(), separators=(",", ":"), sort_keys=True)

    def needConversion(self):
        return False

    def toInternal(self, obj):
        return obj

    def fromInternal(self, obj):
        return obj


class DataTypeSingleton(type):
    """Atomic types without parameters are singletons, as in PySpark."""

    _instances = {}

    def __call__(cls):
        if cls not in cls._instances:
            cls._instances[cls] = super().__call__()
        return cls._instances[cls]


class AtomicType(DataType):
    pass


class NumericType(AtomicType):
    pass


class IntegralType(NumericType, metaclass=DataTypeSingleton):
    pass


class FractionalType(NumericType):
    pass


class NullType(DataType, metaclass=DataTypeSingleton):
    @classmethod
    def typeName(cls):
        return "void"


class StringType(AtomicType, metaclass=DataTypeSingleton):
    pass


class CharType(AtomicType):
    def __init__(self, length):
        self.length = length

    def simpleString(self):
        return f"char({self.length})"

    def jsonValue(self):
        return self.simpleString()

    def __repr__(self):
        return f"CharType({self.length})"


class VarcharType(AtomicType):
    def __init__(self, length):
        self.length = length

    def simpleString(self):
        return f"varchar({self.length})"

    def jsonValue(self):
        return self.simpleString()

    def __repr__(self):
        return f"VarcharType({self.length})"


class BinaryType(AtomicType, metaclass=DataTypeSingleton):
    pass


class BooleanType(AtomicType, metaclass=DataTypeSingleton):
    pass


class DateType(AtomicType, metaclass=DataTypeSingleton):
    pass


class TimestampType(AtomicType, metaclass=DataTypeSingleton):
    pass


class TimestampNTZType(AtomicType, metaclass=DataTypeSingleton):
    @classmethod
    def typeName(cls):
        return "timestamp_ntz"


class DecimalType(FractionalType):
    def __init__(self, precision=10, scale=0):
        self.precision = precision
        self.scale = scale
        self.hasPrecisionInfo = True

    def simpleString(self):
        return f"decimal({self.precision},{self.scale})"

    def jsonValue(self):
        return self.simpleString()

    def __repr__(self):
        return f"DecimalType({self.precision},{self.scale})"


class DoubleType(FractionalType, metaclass=DataTypeSingleton):
    pass


class FloatType(FractionalType, metaclass=DataTypeSingleton):
    pass


class ByteType(IntegralType):
    def simpleString(self):
        return "tinyint"


class ShortType(IntegralType):
    def simpleString(self):
        return "smallint"


class IntegerType(IntegralType):
    def simpleString(self):
        return "int"


class LongType(IntegralType):
    def simpleString(self):
        return "bigint"


class _IntervalType(AtomicType):
    """Day-time and year-month intervals: a start and an end field."""

    _fields = {}
    _default = (0, 0)

    def __init__(self, startField=None, endField=None):
        if startField is None and endField is None:
            startField, endField = self._default
        elif endField is None:
            endField = startField
        self.startField = startField
        self.endField = endField

    def simpleString(self):
        start, end = self._fields[self.startField], self._fields[self.endField]
        return f"interval {start}" if start == end else f"interval {start} to {end}"

    def jsonValue(self):
        return self.simpleString()

    def __repr__(self):
        return f"{type(self).__name__}({self.startField}, {self.endField})"


class DayTimeIntervalType(_IntervalType):
    DAY, HOUR, MINUTE, SECOND = 0, 1, 2, 3
    _fields = {0: "day", 1: "hour", 2: "minute", 3: "second"}
    _default = (DAY, SECOND)


class YearMonthIntervalType(_IntervalType):
    YEAR, MONTH = 0, 1
    _fields = {0: "year", 1: "month"}
    _default = (YEAR, MONTH)


class ArrayType(DataType):
    def __init__(self, elementType, containsNull=True):
        assert isinstance(elementType, DataType), "elementType %s should be an instance of %s" % (
            elementType,
            DataType,
        )
        self.elementType = elementType
        self.containsNull = containsNull

    def simpleString(self):
        return f"array<{self.elementType.simpleString()}>"

    def jsonValue(self):
        return {
            "type": "array",
            "elementType": self.elementType.jsonValue(),
            "containsNull": self.containsNull,
        }

    def __repr__(self):
        return f"ArrayType({self.elementType!r}, {self.containsNull})"


class MapType(DataType):
    def __init__(self, keyType, valueType, valueContainsNull=True):
        self.keyType = keyType
        self.valueType = valueType
        self.valueContainsNull = valueContainsNull

    def simpleString(self):
        return f"map<{self.keyType.simpleString()},{self.valueType.simpleString()}>"

    def jsonValue(self):
        return {
            "type": "map",
            "keyType": self.keyType.jsonValue(),
            "valueType": self.valueType.jsonValue(),
            "valueContainsNull": self.valueContainsNull,
        }

    def __repr__(self):
        return f"MapType({self.keyType!r}, {self.valueType!r}, {self.valueContainsNull})"


class StructField(DataType):
    def __init__(self, name, dataType, nullable=True, metadata=None):
        assert isinstance(dataType, DataType), "dataType %s should be an instance of %s" % (
            dataType,
            DataType,
        )
        assert isinstance(name, str), "field name %s should be a string" % (name)
        self.name = name
        self.dataType = dataType
        self.nullable = nullable
        self.metadata = metadata or {}

    def simpleString(self):
        return f"{self.name}:{self.dataType.simpleString()}"

    def jsonValue(self):
        return {
            "name": self.name,
            "type": self.dataType.jsonValue(),
            "nullable": self.nullable,
            "metadata": self.metadata,
        }

    def __repr__(self):
        return f"StructField('{self.name}', {self.dataType!r}, {self.nullable})"

    def typeName(self):
        raise PySparkTypeError(
            "[INVALID_TYPENAME_CALL] StructField does not have typeName. Use typeName on its type explicitly instead.",
            errorClass="INVALID_TYPENAME_CALL",
        )


class StructType(DataType):
    def __init__(self, fields=None):
        self.fields = list(fields or [])
        assert all(isinstance(f, StructField) for f in self.fields), (
            "fields should be a list of StructField"
        )
        self.names = [f.name for f in self.fields]

    def add(self, field, data_type=None, nullable=True, metadata=None):
        if isinstance(field, StructField):
            self.fields.append(field)
        else:
            if isinstance(data_type, str):
                data_type = _parse_datatype_string(data_type)
            self.fields.append(StructField(field, data_type, nullable, metadata))
        self.names = [f.name for f in self.fields]
        return self

    def __iter__(self):
        return iter(self.fields)

    def __len__(self):
        return len(self.fields)

    def __getitem__(self, key):
        if isinstance(key, str):
            for field in self.fields:
                if field.name == key:
                    return field
            raise PySparkKeyError(
                f"[KEY_NOT_EXISTS] Key `{key}` is not in StructType.",
                errorClass="KEY_NOT_EXISTS",
            )
        if isinstance(key, int):
            try:
                return self.fields[key]
            except IndexError:
                raise PySparkIndexError(
                    "[INDEX_OUT_OF_RANGE] StructType index out of range.",
                    errorClass="INDEX_OUT_OF_RANGE",
                ) from None
        if isinstance(key, slice):
            return StructType(self.fields[key])
        raise PySparkTypeError(
            f"[NOT_EXPECTED_TYPE] Argument `key` should be int, slice or str, got {type(key).__name__}.",
            errorClass="NOT_EXPECTED_TYPE",
        )

    def fieldNames(self):
        return list(self.names)

    def simpleString(self):
        return "struct<" + ",".join(f.simpleString() for f in self.fields) + ">"

    def jsonValue(self):
        return {"type": "struct", "fields": [f.jsonValue() for f in self.fields]}

    def treeString(self, level=None):
        from _kiln_pyspark import tree_string

        return tree_string(self.json(), -1 if level is None else level)

    def __repr__(self):
        return "StructType([" + ", ".join(repr(f) for f in self.fields) + "])"

    @classmethod
    def fromJson(cls, json):
        return _from_json(json)


from pyspark.errors import PySparkIndexError  # noqa: E402

_ATOMIC = {
    t.typeName(): t
    for t in [
        NullType,
        StringType,
        BinaryType,
        BooleanType,
        DateType,
        TimestampType,
        TimestampNTZType,
        DoubleType,
        FloatType,
        ByteType,
        ShortType,
        IntegerType,
        LongType,
    ]
}


def _from_json(value):
    if isinstance(value, str):
        if value in _ATOMIC:
            return _ATOMIC[value]()
        if value.startswith("decimal("):
            precision, scale = value[len("decimal(") : -1].split(",")
            return DecimalType(int(precision), int(scale))
        if value == "decimal":
            return DecimalType(10, 0)
        if value.startswith("interval"):
            words = value.split()
            if words[1] in ("year", "month"):
                names = YearMonthIntervalType._fields
                cls = YearMonthIntervalType
            else:
                names = DayTimeIntervalType._fields
                cls = DayTimeIntervalType
            index = {v: k for k, v in names.items()}
            return cls(index[words[1]], index[words[-1]])
        if value.startswith("char("):
            return CharType(int(value[5:-1]))
        if value.startswith("varchar("):
            return VarcharType(int(value[8:-1]))
        raise PySparkValueError(
            f"[UNSUPPORTED_DATA_TYPE] Unsupported DataType `{value}`.",
            errorClass="UNSUPPORTED_DATA_TYPE",
        )
    kind = value["type"]
    if kind == "struct":
        return StructType(
            [
                StructField(
                    f["name"], _from_json(f["type"]), f.get("nullable", True), f.get("metadata")
                )
                for f in value["fields"]
            ]
        )
    if kind == "array":
        return ArrayType(_from_json(value["elementType"]), value.get("containsNull", True))
    if kind == "map":
        return MapType(
            _from_json(value["keyType"]),
            _from_json(value["valueType"]),
            value.get("valueContainsNull", True),
        )
    raise PySparkValueError(
        f"[UNSUPPORTED_DATA_TYPE] Unsupported DataType `{kind}`.",
        errorClass="UNSUPPORTED_DATA_TYPE",
    )


def _parse_datatype_json_string(text):
    return _from_json(_json.loads(text))


def _parse_datatype_string(text):
    """A DDL type or schema string (`int`, `a int, b string`) as a DataType."""
    from _kiln_pyspark import parse_ddl

    return _parse_datatype_json_string(parse_ddl(text))


class Row(tuple):
    """A row of a DataFrame: a tuple whose values can be read by field name."""

    def __new__(cls, *args, **kwargs):
        if args and kwargs:
            raise PySparkValueError(
                "[CANNOT_SET_TOGETHER] argument *args and **kwargs should not be set together.",
                errorClass="CANNOT_SET_TOGETHER",
            )
        if kwargs:
            row = tuple.__new__(cls, list(kwargs.values()))
            row.__fields__ = list(kwargs)
            return row
        return tuple.__new__(cls, args)

    @classmethod
    def _create(cls, fields, values):
        row = tuple.__new__(cls, values)
        object.__setattr__(row, "__dict__", _row_attrs(fields))
        return row

    def asDict(self, recursive=False):
        if not hasattr(self, "__fields__"):
            raise PySparkTypeError(
                "[CANNOT_CONVERT_TYPE] Cannot convert Row into dict.",
                errorClass="CANNOT_CONVERT_TYPE",
            )
        if not recursive:
            return dict(zip(self.__fields__, self))

        def convert(obj):
            if isinstance(obj, Row):
                return obj.asDict(True)
            if isinstance(obj, list):
                return [convert(o) for o in obj]
            if isinstance(obj, dict):
                return {k: convert(v) for k, v in obj.items()}
            return obj

        return {k: convert(v) for k, v in zip(self.__fields__, self)}

    def __contains__(self, item):
        if hasattr(self, "__fields__"):
            return item in self.__fields__
        return super().__contains__(item)

    def __call__(self, *args):
        if len(args) > len(self):
            raise PySparkValueError(
                f"[TOO_MANY_VALUES] Expected {len(self)} values for `fields`, got {len(args)}.",
                errorClass="TOO_MANY_VALUES",
            )
        return Row._create(self, args)

    def __getitem__(self, item):
        if isinstance(item, (int, slice)):
            return tuple.__getitem__(self, item)
        try:
            return tuple.__getitem__(self, self.__dict__["__field_index__"][item])
        except KeyError:
            raise PySparkValueError(item) from None
        except IndexError:
            raise PySparkKeyError(f"[KEY_NOT_EXISTS] Key `{item}` is not in Row.") from None

    def __getattr__(self, item):
        index = self.__dict__.get("__field_index__")
        if item.startswith("__") or index is None:
            # PySpark looks the name up in `__fields__`, which a Row made
            # from positions lacks: its error names that attribute.
            missing = item if item.startswith("__") else "__fields__"
        else:
            try:
                return tuple.__getitem__(self, index[item])
            except (KeyError, IndexError):
                missing = item
        raise PySparkAttributeError(
            f"[ATTRIBUTE_NOT_SUPPORTED] Attribute `{missing}` is not supported.",
            errorClass="ATTRIBUTE_NOT_SUPPORTED",
        )

    def __setattr__(self, key, value):
        if key != "__fields__":
            raise PySparkRuntimeError(
                "[READ_ONLY] Row is read-only.", errorClass="READ_ONLY"
            )
        # Rows of one result share one attribute dict: replace, never mutate.
        object.__setattr__(self, "__dict__", _row_attrs(value))

    def __reduce__(self):
        if hasattr(self, "__fields__"):
            return (_create_row, (self.__fields__, tuple(self)))
        return tuple.__reduce__(self)

    def __repr__(self):
        if hasattr(self, "__fields__"):
            return "Row(%s)" % ", ".join(f"{k}={v!r}" for k, v in zip(self.__fields__, tuple(self)))
        return "<Row(%s)>" % ", ".join(repr(v) for v in self)


def _row_attrs(fields):
    """The attribute dict of rows with these field names (shareable: rows
    never change it): the names, and each name's first position."""
    index = {}
    for i, name in enumerate(fields):
        index.setdefault(name, i)
    return {"__fields__": list(fields), "__field_index__": index}


_row_classes = {}


def _row_class(fields):
    """`Row` with a property per field, for the rows of a result: a field
    read skips `__getattr__`'s fallback (which first raises an AttributeError
    inside Python). Names a tuple or `Row` method already has keep their
    method, as on a plain `Row`."""
    key = tuple(fields)
    cls = _row_classes.get(key)
    if cls is None:
        attrs = {"__module__": Row.__module__, "__qualname__": "Row"}
        for name, i in _row_attrs(fields)["__field_index__"].items():
            if isinstance(name, str) and not hasattr(Row, name):
                # tuple's own indexing: Row.__getitem__ is Python-level.
                attrs[name] = property(lambda row, i=i, get=tuple.__getitem__: get(row, i))
        cls = type("Row", (Row,), attrs)
        if len(_row_classes) < 1024:
            _row_classes[key] = cls
    return cls


def _create_row(fields, values):
    return Row._create(fields, values)


__all__ = [
    "DataType",
    "NullType",
    "CharType",
    "StringType",
    "VarcharType",
    "BinaryType",
    "BooleanType",
    "DateType",
    "TimestampType",
    "TimestampNTZType",
    "DecimalType",
    "DoubleType",
    "FloatType",
    "ByteType",
    "IntegerType",
    "LongType",
    "DayTimeIntervalType",
    "YearMonthIntervalType",
    "Row",
    "ShortType",
    "ArrayType",
    "MapType",
    "StructField",
    "StructType",
]
