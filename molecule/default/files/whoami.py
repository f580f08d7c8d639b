"""The sandbox's Spark job: Livy submits it to YARN, and it says which user Spark runs it as."""
from pyspark.sql import SparkSession

spark = SparkSession.builder.getOrCreate()
rows = spark.range(1000).count()
print('whoami: sparkUser=%s rows=%d' % (spark.sparkContext.sparkUser(), rows))
spark.stop()
