"""The shared domain of workfeed: settings, models, storage, parsing, media, mail."""
