// The room page: plain TypeScript over the generated Belay client.
//
// State comes from `render` (count, messages, and the room's channel position
// read before them); the room's event stream is opened from that position, so
// nothing published in between is lost. The header shows the connection:
// "live" only while the stream is open. A reset (the server restarted, or the
// history no longer covers what this tab missed) reloads the state.
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
const server = createServerState(RoomController, { page: location.pathname });
const messages = new Map<number, Message>();
const RETRY_MS = 500;
const MAX_RETRY_MS = 5000;
// Count events may arrive in another order than the writes (two workers):
// the highest version of the counter wins.
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

function apply(event: RoomEvent): void {
  if (event.kind === "count" && event.count != null && event.version != null) {
    log(`count → ${event.count}`);
    showCount(event.count, event.version);
  } else if (event.kind === "message" && event.message != null) {
    log(`message from ${event.message.author}`);
    showMessages([event.message]);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Load the state, follow the room's events from its position; start over when the stream fails. */
async function follow(): Promise<void> {
  for (let failures = 0; ; failures++) {
    try {
      const state = await server.load();
      const events = await server.events(
        { room, after: state.position },
        {
          onStatus: (status) => {
            showStatus(status);
            if (status === "reconnecting") log("connection lost; reconnecting…");
          },
          // The store reloads its state on a reset by itself; say so.
          onReset: () => log("reset: state reloaded"),
        },
      );
      failures = 0;
      for await (const event of events) apply(event);
    } catch {
      // The server is away (restarting, or the stream gave up): never say "live" meanwhile.
      showStatus("reconnecting");
    }
    await sleep(Math.min(RETRY_MS * 2 ** failures, MAX_RETRY_MS));
  }
}

function main(): void {
  byId("room-name").textContent = room;
  showStatus("connecting");
  server.subscribe((state) => {
    showCount(state.count, state.version);
    showMessages(state.messages);
  });

  byId("increment").addEventListener("click", () => {
    void server.increment({ room }).catch((error: unknown) => showError(String(error)));
  });

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

  void follow();
}

main();
