// A small React page over the generated client and react.ts, in StrictMode.
// Bundled by esbuild (development React, so StrictMode mounts effects twice)
// and driven in Chromium by tests/codegen/test_react_browser.py.
import { StrictMode, useState } from "react";
import { createRoot } from "react-dom/client";

import { CounterController, RoomFull, ShopController } from "./generated/index.js";
import { useServerState, useStream } from "./generated/react.js";

function LiveCounter() {
  const { state, status } = useServerState(CounterController, { page: "/rooms/lobby", live: true });
  return (
    <p>
      live <span id="live-count">{state?.count ?? "-"}</span> <span id="live-status">{status}</span>
    </p>
  );
}

function PlainCounter() {
  const { state, error, server } = useServerState(CounterController, { page: "/rooms/react" });
  const add = (): void => {
    server.increment({ room: "react", requestBody: { count: 2 } }).catch(() => undefined);
  };
  return (
    <p>
      plain <span id="plain-count">{state?.count ?? "-"}</span>
      <button id="add" onClick={add}>add</button>
      <span id="plain-error">{error === undefined ? "" : String(error)}</span>
    </p>
  );
}

function Ticks() {
  const { items, status } = useStream((o) => ShopController.ticks({ limit: 3 }, o), []);
  return (
    <p>
      ticks <span id="ticks">{items.map((t) => t.n).join(",")}</span> <span id="ticks-status">{status}</span>
    </p>
  );
}

function Failing() {
  const { items, error, status } = useStream((o) => ShopController.ticks({ limit: 5, fail_at: 2 }, o), []);
  const kind = error instanceof RoomFull ? `RoomFull ${error.body.capacity}` : String(error ?? "");
  return (
    <p>
      failing <span id="failing">{items.map((t) => t.n).join(",")}</span> <span id="failing-error">{kind}</span>{" "}
      <span id="failing-status">{status}</span>
    </p>
  );
}

function App() {
  const [shown, setShown] = useState(true);
  return (
    <>
      <button id="toggle" onClick={() => setShown(!shown)}>toggle live</button>
      {shown ? <LiveCounter /> : <p id="hidden">hidden</p>}
      <PlainCounter />
      <Ticks />
      <Failing />
    </>
  );
}

const root = document.getElementById("root");
if (root === null) throw new Error("no #root");
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
