"""The course's heavy steps written directly with polars' lazy API, for the
benchmark's polars column. Usage: polars_workloads.py NAME DATA OUT"""

import glob
import os
import sys
from datetime import datetime, timezone

import polars as pl

TS = pl.Datetime("us")
GREEN = {
    "VendorID": pl.Int32, "lpep_pickup_datetime": TS, "lpep_dropoff_datetime": TS,
    "store_and_fwd_flag": pl.String, "RatecodeID": pl.Int32, "PULocationID": pl.Int32,
    "DOLocationID": pl.Int32, "passenger_count": pl.Int32, "trip_distance": pl.Float64,
    "fare_amount": pl.Float64, "extra": pl.Float64, "mta_tax": pl.Float64, "tip_amount": pl.Float64,
    "tolls_amount": pl.Float64, "ehail_fee": pl.Float64, "improvement_surcharge": pl.Float64,
    "total_amount": pl.Float64, "payment_type": pl.Int32, "trip_type": pl.Int32,
    "congestion_surcharge": pl.Float64,
}
YELLOW = {
    "VendorID": pl.Int32, "tpep_pickup_datetime": TS, "tpep_dropoff_datetime": TS,
    "passenger_count": pl.Int32, "trip_distance": pl.Float64, "RatecodeID": pl.Int32,
    "store_and_fwd_flag": pl.String, "PULocationID": pl.Int32, "DOLocationID": pl.Int32,
    "payment_type": pl.Int32, "fare_amount": pl.Float64, "extra": pl.Float64, "mta_tax": pl.Float64,
    "tip_amount": pl.Float64, "tolls_amount": pl.Float64, "improvement_surcharge": pl.Float64,
    "total_amount": pl.Float64, "congestion_surcharge": pl.Float64,
}
COMMON = [
    "VendorID", "pickup_datetime", "dropoff_datetime", "store_and_fwd_flag", "RatecodeID",
    "PULocationID", "DOLocationID", "passenger_count", "trip_distance", "fare_amount", "extra",
    "mta_tax", "tip_amount", "tolls_amount", "improvement_surcharge", "total_amount",
    "payment_type", "congestion_surcharge",
]


def csv_to_parquet(data, out):
    for color, schema in (("green", GREEN), ("yellow", YELLOW)):
        for path in sorted(glob.glob(f"{data}/raw/{color}/*/*/*.csv.gz")):
            year, month = path.split("/")[-3:-1]
            df = pl.read_csv(path, schema=schema)
            target = f"{out}/pq/{color}/{year}/{month}"
            os.makedirs(target, exist_ok=True)
            rows = df.height
            for i in range(4):
                df.slice(i * rows // 4, (i + 1) * rows // 4 - i * rows // 4).write_parquet(
                    f"{target}/part-{i:05d}.parquet", compression="snappy"
                )


def trips(data, color):
    prefix = "lpep" if color == "green" else "tpep"
    return pl.scan_parquet(f"{data}/pq/{color}/*/*/*.parquet").rename(
        {f"{prefix}_pickup_datetime": "pickup_datetime", f"{prefix}_dropoff_datetime": "dropoff_datetime"}
    )


def revenue_report(data, out):
    union = pl.concat(
        [trips(data, c).select(COMMON).with_columns(pl.lit(c).alias("service_type")) for c in ("green", "yellow")]
    )
    sums = [pl.col(c).sum().alias(f"revenue_monthly_{c}") for c in (
        "fare_amount", "extra", "mta_tax", "tip_amount", "tolls_amount",
        "improvement_surcharge", "total_amount", "congestion_surcharge")]
    report = union.group_by(
        pl.col("PULocationID").alias("revenue_zone"),
        pl.col("pickup_datetime").dt.truncate("1mo").alias("revenue_month"),
        "service_type",
    ).agg(sums + [
        pl.col("passenger_count").mean().alias("avg_monthly_passenger_count"),
        pl.col("trip_distance").mean().alias("avg_monthly_trip_distance"),
    ])
    os.makedirs(out, exist_ok=True)
    report.sink_parquet(f"{out}/report.parquet")


def hourly(data, color):
    return (
        trips(data, color)
        # Parquet timestamps are UTC instants (isAdjustedToUTC), as Spark writes them.
        .filter(pl.col("pickup_datetime") >= datetime(2020, 1, 1, tzinfo=timezone.utc))
        .group_by(pl.col("pickup_datetime").dt.truncate("1h").alias("hour"), pl.col("PULocationID").alias("zone"))
        .agg(pl.col("total_amount").sum().alias(f"{color}_amount"), pl.len().alias(f"{color}_number_records"))
    )


def hourly_zones(data, out):
    joined = hourly(data, "green").join(hourly(data, "yellow"), on=["hour", "zone"], how="full", coalesce=True)
    zones = pl.scan_csv(f"{data}/taxi_zone_lookup.csv")
    result = joined.join(zones, left_on="zone", right_on="LocationID").drop("zone")
    os.makedirs(out, exist_ok=True)
    result.sink_parquet(f"{out}/hourly.parquet")


def global_sort(data, out):
    os.makedirs(out, exist_ok=True)
    trips(data, "yellow").sort(["total_amount", "pickup_datetime"], descending=[True, False], nulls_last=[True, False]).sink_parquet(
        f"{out}/sorted.parquet"
    )


if __name__ == "__main__":
    name, data, out = sys.argv[1:4]
    {"csv_to_parquet": csv_to_parquet, "revenue_report": revenue_report,
     "hourly_zones": hourly_zones, "global_sort": global_sort}[name](data, out)
