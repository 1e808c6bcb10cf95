"""The JSON API: routers parse and authorise, then call one service."""
