// The room page: plain TypeScript over the generated Belay client.
import {
  BelayError,
  BelayValidationError,
  createServerState,
  MessageTooLong,
  RoomController,
  type Message,
  type RoomEvent,
} from "./generated/index.js";

const room = decodeURIComponent(location.pathname.split("/").filter(Boolean).pop() ?? "lobby");
const server = createServerState(RoomController, { page: location.pathname });
const messages = new Map<string, Message>();

function byId<T extends HTMLElement>(id: string): T {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`missing #${id}`);
  return element as T;
}

const key = (m: Message): string => `${m.sent_at}|${m.author}|${m.text}`;

function showMessages(list: Message[]): void {
  for (const message of list) messages.set(key(message), message);
  const ul = byId<HTMLUListElement>("messages");
  ul.replaceChildren(
    ...[...messages.values()].map((m) => {
      const li = document.createElement("li");
      const author = document.createElement("b");
      author.textContent = m.author;
      li.append(author, document.createTextNode(m.text));
      return li;
    }),
  );
}

function showCount(count: number): void {
  byId("count").textContent = String(count);
}

function showError(text: string | null): void {
  const box = byId("error");
  box.hidden = text === null;
  box.textContent = text ?? "";
}

function logEvent(event: RoomEvent): void {
  const li = document.createElement("li");
  li.textContent = event.kind === "count" ? `count → ${event.count}` : `message from ${event.message?.author}`;
  byId("events").prepend(li);
}

async function follow(): Promise<void> {
  const status = byId("connection");
  for (;;) {
    try {
      const events = await RoomController.events({ room });
      status.textContent = "live";
      for await (const event of events) {
        logEvent(event);
        if (event.kind === "count" && event.count != null) showCount(event.count);
        if (event.kind === "message" && event.message) showMessages([event.message]);
      }
      status.textContent = "stream ended; reconnecting…";
    } catch (error) {
      status.textContent = `disconnected (${error instanceof BelayError ? error.message : String(error)}); retrying…`;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function main(): Promise<void> {
  byId("room-name").textContent = room;
  server.subscribe((state) => {
    showCount(state.count);
    if (state.messages) showMessages(state.messages);
  });
  await server.load();

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

void main();
