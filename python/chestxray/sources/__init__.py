"""Where images come from: NIH's archives (download, extract, metadata), the demo's
phantoms, or class folders on disk; and the checks of a source's parameters made
before any long work (preflight). Imports only chestxray.support."""
