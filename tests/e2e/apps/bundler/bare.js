// Nothing imported by name: the import is kept for its side effect (the package's
// `sideEffects` says so), which registers the loader; the page's hosts are found by it.
import "@mighty-commerce/widget";
