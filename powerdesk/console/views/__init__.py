"""Console views: parse, call one service or selector, render. One module per page family."""
