"""`pyspark.sql.pandas`: conversions between DataFrames and pandas."""
