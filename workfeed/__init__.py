"""The `workfeed` command: runs the processes and administers projects."""
