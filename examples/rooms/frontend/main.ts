// The room page: plain TypeScript over the generated Belay client.
//
// Count and messages are live page state: `createServerState(..., { live: true })`
// follows the room's `/live` stream, whose first frame is the whole state and
// whose later frames are what another tab's sideeffect (or this one's) changed,
// rendered for this tab. The header shows that connection: "live" only while
// it is open. The room's event stream is only the "Live events" log, opened
// from the `position` of the first state, so no event in between is lost.
import {
  BelayValidationError,
  createServerState,
  MessageTooLong,
  RoomController,
  type ConnectionStatus,
  type Message,
  type RoomEvent,
} from "./generated/index.js";

const room = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() ?? "lobby");
const server = createServerState(RoomController, { page: location.pathname, live: true });
const messages = new Map<number, Message>();
const RETRY_MS = 500;
const MAX_RETRY_MS = 5000;
// A sideeffect's own answer and a live frame travel on two connections, so an
// older count may arrive after a newer one: the highest version of the counter wins.
let shownVersion = -1;

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`missing #${id}`);
  return element as T;
}

function showMessages(list: Message[]): void {
  for (const message of list) messages.set(message.id, message);
  const ordered = [...messages.values()].sort((a, b) => a.id - b.id);
  byId<HTMLUListElement>("messages").replaceChildren(
    ...ordered.map((m) => {
      const li = document.createElement("li");
      const author = document.createElement("b");
      author.textContent = m.author;
      li.append(author, document.createTextNode(m.text));
      return li;
    }),
  );
}

function showCount(count: number, version: number): void {
  if (version < shownVersion) return;
  shownVersion = version;
  byId("count").textContent = String(count);
}

function showError(text: string | null): void {
  const box = byId("error");
  box.hidden = text === null;
  box.textContent = text ?? "";
}

function showStatus(status: ConnectionStatus | "connecting"): void {
  const text = { open: "live", connecting: "connecting…", reconnecting: "reconnecting…", closed: "reconnecting…" };
  byId("connection").textContent = text[status];
}

function log(line: string): void {
  const li = document.createElement("li");
  li.textContent = line;
  byId("events").prepend(li);
}

function logEvent(event: RoomEvent): void {
  if (event.kind === "count" && event.count != null) log(`count → ${event.count}`);
  else if (event.kind === "message" && event.message != null) log(`message from ${event.message.author}`);
}

const IMPORT_COUNT = 100;

/** Import sample messages: a streaming sideeffect, its progress shown while it runs. */
async function importMessages(): Promise<void> {
  const button = byId<HTMLButtonElement>("import");
  const bar = byId<HTMLProgressElement>("import-progress");
  const status = byId("import-status");
  button.disabled = true;
  bar.value = 0;
  status.textContent = "importing…";
  try {
    const stream = await server.import_messages({ room, count: IMPORT_COUNT });
    for await (const step of stream) {
      bar.max = step.total;
      bar.value = step.done;
      status.textContent = `${step.done} / ${step.total}`;
    }
    await stream.result; // merged into the page state by now: the new messages are shown
    status.textContent = `imported ${bar.value} messages`;
  } catch (error) {
    status.textContent = "import failed";
    showError(String(error));
  } finally {
    button.disabled = false;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const backoff = (failures: number): number => Math.min(RETRY_MS * 2 ** failures, MAX_RETRY_MS);

/** Resolve once the live connection has given up (status "closed"). */
function liveClosed(): Promise<void> {
  return new Promise((resolve) => {
    const stop = server.onChange(() => {
      if (server.status === "closed") {
        stop();
        resolve();
      }
    });
  });
}

/** Follow the room's live state; when the connection gives up, start over. */
async function followState(): Promise<void> {
  for (let failures = 0; ; failures++) {
    try {
      await server.load(); // the first full state (the store reconnects by itself after drops)
      failures = 0;
      if (server.status !== "closed") await liveClosed();
    } catch {
      // The server is away (restarting): never say "live" meanwhile.
    }
    showStatus("reconnecting");
    await sleep(backoff(failures));
  }
}

/** List the room's events from the first state's position; start over when the stream fails. */
async function followLog(): Promise<void> {
  for (let failures = 0; ; failures++) {
    try {
      const state = server.loaded ? server.state : await server.load();
      const events = await server.events(
        { room, after: state.position },
        // A reset: events were lost; the store reloads its state (here: the live stream's).
        { onReset: () => log("reset: state reloaded") },
      );
      failures = 0;
      for await (const event of events) logEvent(event);
    } catch {
      // Retried below; the live state has its own connection and status.
    }
    await sleep(backoff(failures));
  }
}

function main(): void {
  byId("room-name").textContent = room;
  showStatus("connecting");
  server.subscribe((state) => {
    showCount(state.count, state.version);
    showMessages(state.messages);
  });
  server.onChange(() => {
    if (server.status === "open") showStatus("open");
    else if (server.status === "reconnecting") showStatus("reconnecting");
  });

  byId("increment").addEventListener("click", () => {
    void server.increment({ room }).catch((error: unknown) => showError(String(error)));
  });

  byId("import").addEventListener("click", () => void importMessages());

  byId<HTMLFormElement>("post").addEventListener("submit", (event) => {
    event.preventDefault();
    const author = byId<HTMLInputElement>("author").value;
    const input = byId<HTMLInputElement>("text");
    server
      .post_message({ room, requestBody: { author, text: input.value } })
      .then(() => {
        input.value = "";
        showError(null);
      })
      .catch((error: unknown) => {
        if (error instanceof MessageTooLong) {
          showError(`${error.body.detail}: ${error.body.length} characters, limit ${error.body.limit}`);
        } else if (error instanceof BelayValidationError) {
          showError(error.body.detail.map((issue) => `${issue.loc.join(".")}: ${issue.msg}`).join("; "));
        } else {
          showError(String(error));
        }
      });
  });

  window.addEventListener("belay:reload", (event) => {
    // A Python edit: re-fetch the page state instead of reloading the page.
    event.preventDefault();
    void server.load();
  });

  void followState();
  void followLog();
}

main();
