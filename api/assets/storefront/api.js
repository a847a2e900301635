// The API client: GraphQL over fetch at /graphql, and subscriptions over the
// graphql-transport-ws protocol at /graphql/ws. Every call carries the session's access
// token, refreshed with the refresh token when it is about to expire or is refused.

import { session, signIn, signOut } from "./session.js";

/** A GraphQL error: `code` is its `extensions.code` (PAYMENT_DECLINED, BAD_USER_INPUT,
 * ...), `field` the input field it names, if any. */
export class ApiError extends Error {
  constructor(error) {
    super(error?.message ?? "The shop could not be reached.");
    this.code = error?.extensions?.code ?? "NETWORK_ERROR";
    this.field = error?.extensions?.field ?? null;
  }
}

const MONEY = "fragment Money on Money { amount currencyCode }";
const AUTH = `accessToken refreshToken expiresIn user { id username email emailVerified }`;

/** Runs a query or mutation; resolves to its `data`, or rejects with an ApiError. The
 * `Money` fragment is appended when the document uses it. */
export async function gql(document, variables = {}, { retried = false } = {}) {
  const query = withFragments(document);
  const token = await accessToken();
  let body;
  try {
    const response = await fetch("/graphql", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
    body = await response.json();
  } catch {
    throw new ApiError(null);
  }
  const error = body.errors?.[0];
  if (error) {
    // A token refused after all (the session ended elsewhere): refresh once, else sign out.
    if (token && error.extensions?.code === "UNAUTHENTICATED" && !retried) {
      if (await refresh()) return gql(document, variables, { retried: true });
      signOut();
    }
    throw new ApiError(error);
  }
  return body.data;
}

/** The document, with the `Money` fragment when it spreads it. */
function withFragments(document) {
  return document.includes("...Money") ? `${document}\n${MONEY}` : document;
}

let refreshing = null;

/** The access token to send, refreshed first when it is about to expire; null for a guest. */
async function accessToken() {
  const current = session();
  if (!current) return null;
  if (Date.now() < current.expiresAt) return current.accessToken;
  return (await refresh()) ? session()?.accessToken : null;
}

/** Trades the refresh token for a new session; one refresh at a time, shared by all
 * requests that need it. False (and signed out) when the session has ended. */
function refresh() {
  refreshing ??= (async () => {
    const refreshToken = session()?.refreshToken;
    if (!refreshToken) return false;
    try {
      const response = await fetch("/graphql", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          query: `mutation Refresh($token: String!) { refreshToken(refreshToken: $token) { ${AUTH} } }`,
          variables: { token: refreshToken },
        }),
      });
      const body = await response.json();
      if (body.data?.refreshToken) {
        signIn(body.data.refreshToken);
        return true;
      }
      signOut();
      return false;
    } catch {
      return false;
    }
  })().finally(() => (refreshing = null));
  return refreshing;
}

/** What login and register ask for. */
export const AUTH_FIELDS = AUTH;

/**
 * Subscribes to `document` over /graphql/ws. Calls `onNext(data)` for each event and
 * `onError(ApiError)` when the subscription fails; returns a function that ends it.
 * One socket per subscription: a page has at most one, and closing it ends it cleanly.
 */
export function subscribe(document, variables, { onNext, onError, onOpen }) {
  const url = new URL("/graphql/ws", location.href);
  url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
  let socket = null;
  let ended = false;
  const id = "1";

  (async () => {
    const token = await accessToken();
    if (ended) return;
    socket = new WebSocket(url, "graphql-transport-ws");
    socket.addEventListener("open", () => {
      socket.send(
        JSON.stringify({
          type: "connection_init",
          payload: token ? { authorization: `Bearer ${token}` } : {},
        }),
      );
    });
    socket.addEventListener("message", (event) => {
      const message = JSON.parse(event.data);
      switch (message.type) {
        case "connection_ack":
          socket.send(JSON.stringify({ id, type: "subscribe", payload: { query: withFragments(document), variables } }));
          onOpen?.();
          break;
        case "ping":
          socket.send(JSON.stringify({ type: "pong" }));
          break;
        case "next":
          if (message.payload.errors?.length) onError?.(new ApiError(message.payload.errors[0]));
          else onNext(message.payload.data);
          break;
        case "error":
          onError?.(new ApiError(message.payload?.[0]));
          break;
        case "complete":
          ended = true;
          socket.close(1000);
          break;
      }
    });
    socket.addEventListener("close", (event) => {
      if (!ended && event.code !== 1000) onError?.(new ApiError({ message: "The live connection closed." }));
    });
  })();

  return () => {
    ended = true;
    if (socket?.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ id, type: "complete" }));
      socket.close(1000);
    } else if (socket) {
      socket.close();
    }
  };
}
