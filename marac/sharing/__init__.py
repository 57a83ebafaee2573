"""Need-to-know: which agency kinds see which categories of a case, and the log of what was shown."""
