"""Sources to articles: folders and files, URLs and feeds, each bad item a Failure."""
