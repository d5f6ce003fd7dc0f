"""Run the notebook twin through a running Jupyter server, as a person in JupyterLab does with Run All.

    .venv/bin/python scripts/run_notebook_on_server.py URL TOKEN NOTEBOOK [key=value ...]

Reads NOTEBOOK (a path under the server's root) through the server's contents API, sets the given
parameters in its `parameters` cell, starts a session with the notebook's kernel (R, IRkernel), sends
every code cell to that kernel over the server's websocket in order, writes the executed notebook back
through the contents API as <name>-executed.ipynb, reads it back, and fails unless every cell ran
without an error. Used by scripts/check_container.sh inside the container.
"""
from __future__ import annotations

import asyncio
import json
import sys
import uuid
from urllib.parse import quote

from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.websocket import websocket_connect


class Server:
    def __init__(self, url: str, token: str):
        self.url, self.token = url.rstrip("/"), token
        self.http = AsyncHTTPClient()

    async def api(self, method: str, path: str, body: dict | None = None) -> dict:
        request = HTTPRequest(f"{self.url}/api/{path}", method=method,
                              headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
                              body=None if body is None else json.dumps(body), request_timeout=120)
        response = await self.http.fetch(request)
        return json.loads(response.body) if response.body else {}

    async def channels(self, kernel_id: str):
        url = self.url.replace("http", "ws", 1) + f"/api/kernels/{kernel_id}/channels?token={self.token}"
        return await websocket_connect(url, max_message_size=256 * 1024 * 1024)


def with_parameters(notebook: dict, overrides: list[str]) -> None:
    cell = next(c for c in notebook["cells"] if "parameters" in c.get("metadata", {}).get("tags", []))
    lines = "".join(cell["source"]).splitlines()
    for override in overrides:
        name, value = override.split("=", 1)
        value = value if value.lstrip("-").replace(".", "", 1).isdigit() else json.dumps(value)
        value = f"{value}L" if value.lstrip("-").isdigit() else value
        matches = [i for i, line in enumerate(lines) if line.strip().startswith(f"{name} ")]
        if not matches:
            raise SystemExit(f"run_notebook_on_server: no parameter {name!r} in the parameters cell")
        indent, _, rest = lines[matches[0]].partition(name)
        comma = "," if rest.rstrip().endswith(",") else ""
        lines[matches[0]] = f"{indent}{name} = {value}{comma}"
    cell["source"] = "\n".join(lines)


async def execute(socket, session: str, code: str) -> tuple[list[dict], int | None, str]:
    """One execute_request; the outputs as nbformat stores them, the execution count and the status."""
    message_id = uuid.uuid4().hex
    await socket.write_message(json.dumps({
        "header": {"msg_id": message_id, "session": session, "username": "check", "msg_type": "execute_request",
                   "version": "5.3"},
        "parent_header": {}, "metadata": {}, "channel": "shell",
        "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                    "allow_stdin": False, "stop_on_error": True}}))
    outputs, count, status, idle = [], None, None, False
    while not (idle and status):
        message = json.loads(await socket.read_message())
        if message.get("parent_header", {}).get("msg_id") != message_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "stream":
            outputs.append({"output_type": "stream", "name": content["name"], "text": content["text"]})
        elif kind in ("display_data", "execute_result"):
            output = {"output_type": kind, "data": content["data"], "metadata": content.get("metadata", {})}
            if kind == "execute_result":
                output["execution_count"] = content["execution_count"]
            outputs.append(output)
        elif kind == "error":
            outputs.append({"output_type": "error", "ename": content["ename"], "evalue": content["evalue"],
                            "traceback": content["traceback"]})
        elif kind == "execute_reply":
            count, status = content.get("execution_count"), content["status"]
        elif kind == "status" and content["execution_state"] == "idle":
            idle = True
    return outputs, count, status


async def main(url: str, token: str, path: str, overrides: list[str]) -> int:
    server = Server(url, token)
    notebook = (await server.api("GET", f"contents/{quote(path)}?content=1&type=notebook"))["content"]
    with_parameters(notebook, overrides)
    kernel = notebook["metadata"]["kernelspec"]["name"]
    session = await server.api("POST", "sessions", {"path": path, "type": "notebook", "kernel": {"name": kernel}})
    kernel_id = session["kernel"]["id"]
    print(f"run_notebook_on_server: kernel {kernel} ({kernel_id}) started by the server for {path}", flush=True)
    socket = await server.channels(kernel_id)
    try:
        for number, cell in enumerate(notebook["cells"]):
            if cell["cell_type"] != "code":
                continue
            cell["outputs"], cell["execution_count"], status = await execute(socket, session["id"],
                                                                             "".join(cell["source"]))
            print(f"run_notebook_on_server: cell {number} ({cell.get('id', '?')}): {status}", flush=True)
            if status != "ok":
                break
    finally:
        socket.close()
        await server.api("DELETE", f"sessions/{session['id']}")
    executed = path.removesuffix(".ipynb") + "-executed.ipynb"
    await server.api("PUT", f"contents/{quote(executed)}", {"type": "notebook", "format": "json", "content": notebook})
    back = (await server.api("GET", f"contents/{quote(executed)}?content=1&type=notebook"))["content"]
    code = [c for c in back["cells"] if c["cell_type"] == "code"]
    errors = [(c.get("id"), o.get("evalue")) for c in code for o in c["outputs"] if o["output_type"] == "error"]
    unrun = [c.get("id") for c in code if c["execution_count"] is None]
    images = sum("image/png" in o.get("data", {}) for c in code for o in c["outputs"])
    print(f"run_notebook_on_server: read back {executed}: {len(code)} code cells, {len(unrun)} not run, "
          f"{len(errors)} errors, {images} figures")
    if errors or unrun:
        print(f"run_notebook_on_server: errors {errors}; not run {unrun}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    if len(sys.argv) < 4:
        raise SystemExit(__doc__.strip().splitlines()[2].strip())
    sys.exit(asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:])))
