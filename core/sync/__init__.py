"""The path of a sync: read pages, map and validate, upsert into the hub, push on."""
