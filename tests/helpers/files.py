"""Files as other systems write them, for the tests of what the project writes."""


def windows_open(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None, *args, **kwargs):
    """open() as on Windows (README: supported without Docker): a text file opened with newline=None writes
    os.linesep, '\\r\\n', for each '\\n' (Python's open documentation). Monkeypatched over a module's open."""
    if "b" not in mode and newline is None:
        newline = "\r\n"  # what newline=None writes on Windows
    return open(file, mode, buffering, encoding, errors, newline, *args, **kwargs)
