"""pyWATS station service (arrives with the station-service issue)."""
