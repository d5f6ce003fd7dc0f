# One container for every OS: Docker on Windows, macOS or Linux, Binder (repo2docker) and VS Code /
# GitHub Codespaces (.devcontainer/). It runs the project's own set-up, so nothing here repeats its
# package lists: scripts/setup.sh installs the Debian packages, the virtual environment (the pinned set
# Debian 13's reticulate converts: requirements.txt) and the R kernel for Jupyter.
#
#   docker build -t chestxray-report .
#   docker run --rm -v "$PWD/_output:/home/jovyan/_output" chestxray-report               # make report
#   docker run --rm -v "$PWD/_output:/home/jovyan/_output" chestxray-report make pdf
#   docker run --rm -v "$PWD/_output:/home/jovyan/_output" chestxray-report make notebook
#   docker run --rm chestxray-report make test
#   docker run --rm -p 127.0.0.1:8888:8888 chestxray-report make lab     # JupyterLab, with a token
FROM debian:trixie

# Binder's rules: a non-root user of uid 1000 (repo2docker passes both), the repository in its home,
# Jupyter on its PATH.
ARG NB_USER=jovyan
ARG NB_UID=1000
ENV USER=${NB_USER} \
    HOME=/home/${NB_USER} \
    LANG=C.UTF-8 \
    PIP_NO_CACHE_DIR=1

# Debian packages, as root, from scripts/setup.sh's list; copied alone, so that this long layer is
# rebuilt only when the set-up changes.
COPY scripts/setup.sh /tmp/setup/scripts/setup.sh
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends make \
 && bash /tmp/setup/scripts/setup.sh system \
 && rm -rf /var/lib/apt/lists/* /tmp/setup \
 && useradd --create-home --uid "${NB_UID}" --shell /bin/bash "${NB_USER}"

COPY scripts/container-entrypoint.sh /usr/local/bin/chestxray-entrypoint
COPY --chown=${NB_UID}:${NB_UID} . ${HOME}
USER ${NB_USER}
WORKDIR ${HOME}
# The virtual environment and the R kernel (the Debian packages are there: nothing else installs), then
# the notebook twin, unexecuted, for Binder and JupyterLab to open (Run All renders the report).
RUN make setup \
 && .venv/bin/python scripts/make_notebook.py --no-execute \
 && chmod a+rwx "${HOME}" && mkdir -p data _output && chmod a+rwx data _output
ENV PATH=${HOME}/.venv/bin:${PATH} \
    PROJECT_DIR=${HOME} \
    LAB_IP=0.0.0.0

# `docker run --user UID:GID` (a Linux host user whose uid is not 1000, so that the outputs are theirs):
# the entrypoint gives that user a HOME of its own; the project's folders above are writable by all.
ENTRYPOINT ["chestxray-entrypoint"]
EXPOSE 8888
CMD ["make", "report"]
