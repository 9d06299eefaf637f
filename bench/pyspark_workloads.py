"""The course's heavy steps as the course writes them in PySpark (session
start included), for the benchmark's PySpark column.
Usage: pyspark_workloads.py NAME DATA OUT"""

import glob
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T


def schema(fields):
    kinds = {"int": T.IntegerType(), "ts": T.TimestampType(), "str": T.StringType(), "double": T.DoubleType()}
    return T.StructType([T.StructField(n, kinds[k], True) for n, k in fields])


GREEN = schema([
    ("VendorID", "int"), ("lpep_pickup_datetime", "ts"), ("lpep_dropoff_datetime", "ts"),
    ("store_and_fwd_flag", "str"), ("RatecodeID", "int"), ("PULocationID", "int"), ("DOLocationID", "int"),
    ("passenger_count", "int"), ("trip_distance", "double"), ("fare_amount", "double"), ("extra", "double"),
    ("mta_tax", "double"), ("tip_amount", "double"), ("tolls_amount", "double"), ("ehail_fee", "double"),
    ("improvement_surcharge", "double"), ("total_amount", "double"), ("payment_type", "int"),
    ("trip_type", "int"), ("congestion_surcharge", "double"),
])
YELLOW = schema([
    ("VendorID", "int"), ("tpep_pickup_datetime", "ts"), ("tpep_dropoff_datetime", "ts"),
    ("passenger_count", "int"), ("trip_distance", "double"), ("RatecodeID", "int"),
    ("store_and_fwd_flag", "str"), ("PULocationID", "int"), ("DOLocationID", "int"), ("payment_type", "int"),
    ("fare_amount", "double"), ("extra", "double"), ("mta_tax", "double"), ("tip_amount", "double"),
    ("tolls_amount", "double"), ("improvement_surcharge", "double"), ("total_amount", "double"),
    ("congestion_surcharge", "double"),
])
COMMON = [
    "VendorID", "pickup_datetime", "dropoff_datetime", "store_and_fwd_flag", "RatecodeID",
    "PULocationID", "DOLocationID", "passenger_count", "trip_distance", "fare_amount", "extra",
    "mta_tax", "tip_amount", "tolls_amount", "improvement_surcharge", "total_amount",
    "payment_type", "congestion_surcharge",
]


def trips(spark, data, color):
    prefix = "lpep" if color == "green" else "tpep"
    return (
        spark.read.parquet(f"{data}/pq/{color}/*/*")
        .withColumnRenamed(f"{prefix}_pickup_datetime", "pickup_datetime")
        .withColumnRenamed(f"{prefix}_dropoff_datetime", "dropoff_datetime")
    )


def csv_to_parquet(spark, data, out):
    for color, sch in (("green", GREEN), ("yellow", YELLOW)):
        for path in sorted(glob.glob(f"{data}/raw/{color}/*/*")):
            year, month = path.split("/")[-2:]
            df = spark.read.option("header", "true").schema(sch).csv(path)
            df.repartition(4).write.parquet(f"{out}/pq/{color}/{year}/{month}", mode="overwrite")


def revenue_report(spark, data, out):
    green = trips(spark, data, "green").select(COMMON).withColumn("service_type", F.lit("green"))
    yellow = trips(spark, data, "yellow").select(COMMON).withColumn("service_type", F.lit("yellow"))
    green.unionAll(yellow).createOrReplaceTempView("trips_data")
    report = spark.sql("""
    SELECT PULocationID AS revenue_zone, date_trunc('month', pickup_datetime) AS revenue_month, service_type,
        SUM(fare_amount) AS revenue_monthly_fare, SUM(extra) AS revenue_monthly_extra,
        SUM(mta_tax) AS revenue_monthly_mta_tax, SUM(tip_amount) AS revenue_monthly_tip_amount,
        SUM(tolls_amount) AS revenue_monthly_tolls_amount,
        SUM(improvement_surcharge) AS revenue_monthly_improvement_surcharge,
        SUM(total_amount) AS revenue_monthly_total_amount,
        SUM(congestion_surcharge) AS revenue_monthly_congestion_surcharge,
        AVG(passenger_count) AS avg_monthly_passenger_count, AVG(trip_distance) AS avg_monthly_trip_distance
    FROM trips_data GROUP BY 1, 2, 3""")
    report.coalesce(1).write.parquet(out, mode="overwrite")


def hourly_zones(spark, data, out):
    for color in ("green", "yellow"):
        trips(spark, data, color).createOrReplaceTempView(color)
    def hourly(color):
        return spark.sql(f"""
        SELECT date_trunc('hour', pickup_datetime) AS hour, PULocationID AS zone,
            SUM(total_amount) AS {color}_amount, COUNT(1) AS {color}_number_records
        FROM {color} WHERE pickup_datetime >= '2020-01-01 00:00:00' GROUP BY 1, 2""")
    joined = hourly("green").join(hourly("yellow"), on=["hour", "zone"], how="outer")
    zones = spark.read.option("header", "true").option("inferSchema", "true").csv(f"{data}/taxi_zone_lookup.csv")
    result = joined.join(zones, joined.zone == zones.LocationID).drop("LocationID", "zone")
    result.write.parquet(out, mode="overwrite")


def global_sort(spark, data, out):
    trips(spark, data, "yellow").orderBy(F.desc("total_amount"), "pickup_datetime").write.parquet(out, mode="overwrite")


if __name__ == "__main__":
    name, data, out = sys.argv[1:4]
    spark = SparkSession.builder.master("local[*]").appName("bench").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    {"csv_to_parquet": csv_to_parquet, "revenue_report": revenue_report,
     "hourly_zones": hourly_zones, "global_sort": global_sort}[name](spark, data, out)
    spark.stop()
