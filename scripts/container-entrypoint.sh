#!/bin/sh
# The container's entrypoint (Dockerfile): runs the command it is given (`make report` by default, or
# Binder's Jupyter server) in the project, PROJECT_DIR (the image user's home, /home/jovyan).
set -e
cd "${PROJECT_DIR:?PROJECT_DIR is set by the Dockerfile}"
# `docker run --user UID:GID` with a uid the image does not know: R, Jupyter and Keras write into HOME,
# which is the project's owner's; that user gets a HOME of its own (the project's folders are writable).
if [ "$(id -u)" != "$(stat -c %u .)" ]; then
  HOME=$(mktemp -d /tmp/home.XXXXXX)
  export HOME
fi
# A folder mounted from the host must be writable here. Docker creates a missing one as root.
for folder in _output data; do
  if [ -d "$folder" ] && [ ! -w "$folder" ]; then
    echo "container: $PWD/$folder, mounted from the host, is not writable by uid $(id -u)." >&2
    echo "  Docker creates a missing folder as root: remove it (sudo rmdir $folder), create it as yourself" >&2
    echo "  (mkdir $folder) and run again; or add --user \"\$(id -u):\$(id -g)\" when it is yours already." >&2
    exit 1
  fi
done
exec "$@"
