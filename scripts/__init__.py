"""Developer scripts (generation, drift and breaking-change gates, dist, release); run as files."""
