"""Optional integrations: Spark (noiseclf[spark]) and Scrapy (noiseclf[scrapy])."""
