// Accounts: sign in, sign up, confirm with the code (skipped when the server confirms at once).
import { auth, signIn } from "./api.js";
import { field, h } from "./dom.js";
import { failed, say, submit } from "./state.js";

const app = document.getElementById("app");
let signedIn = () => {};

/** What to do with a new session (set once by main.js). */
export function onSignedIn(callback) {
  signedIn = callback;
}

export function showAuth(mode, pending = {}) {
  const forms = {
    "sign-in": () =>
      h(
        "form",
        { class: "card", "aria-label": "Sign in", onsubmit: (e) => submit(e, (v) => enter(v.username, v.password)) },
        h("h1", {}, "Sign in"),
        field("Username", { name: "username", autocomplete: "username", value: pending.username || "" }),
        field("Password", { name: "password", type: "password", autocomplete: "current-password" }),
        h("button", { type: "submit", class: "primary" }, "Sign in"),
        h("p", { class: "switch" }, "New here? ", h("button", { type: "button", class: "link", onclick: () => showAuth("sign-up") }, "Create an account")),
      ),
    "sign-up": () =>
      h(
        "form",
        { class: "card", "aria-label": "Sign up", onsubmit: (e) => submit(e, createAccount) },
        h("h1", {}, "Create an account"),
        field("Username", { name: "username", autocomplete: "username" }),
        field("Password", { name: "password", type: "password", autocomplete: "new-password" }),
        h("p", { class: "hint" }, "At least 8 characters with upper and lower case, a digit and a symbol."),
        field("Email", { name: "email", type: "email", autocomplete: "email" }),
        field("Given name", { name: "givenName", autocomplete: "given-name" }),
        field("Family name", { name: "familyName", autocomplete: "family-name" }),
        h("button", { type: "submit", class: "primary" }, "Sign up"),
        h("p", { class: "switch" }, "Have an account? ", h("button", { type: "button", class: "link", onclick: () => showAuth("sign-in") }, "Sign in instead")),
      ),
    confirm: () =>
      h(
        "form",
        { class: "card", "aria-label": "Confirm", onsubmit: (e) => submit(e, (v) => confirmAccount(pending, v.code)) },
        h("h1", {}, "Confirm your account"),
        h("p", { class: "hint" }, `A code for ${pending.username} was sent (by default it is written to the server log).`),
        field("Code", { name: "code", inputmode: "numeric", autocomplete: "one-time-code" }),
        h("button", { type: "submit", class: "primary" }, "Confirm"),
        h("p", { class: "switch" }, "No code? ", h("button", { type: "button", class: "link", onclick: () => resendCode(pending.username) }, "Send a new code")),
      ),
  };
  app.replaceChildren(h("section", { class: "auth" }, forms[mode]()));
  app.querySelector("input:not([value]), input[value='']")?.focus();
}

async function createAccount(values) {
  const created = await auth("signup", values);
  const pending = { username: values.username, password: values.password };
  if (created.userConfirmed) return enter(pending.username, pending.password); // auto-confirmed: no code asked
  say(`Account created. Enter the confirmation code for ${values.username}.`);
  showAuth("confirm", pending);
}

async function confirmAccount(pending, code) {
  await auth("confirm-signup", { username: pending.username, code });
  await enter(pending.username, pending.password);
}

async function resendCode(username) {
  try {
    await auth("resend-code", { username });
    say(`A new code for ${username} was sent.`);
  } catch (error) {
    failed(error);
  }
}

async function enter(username, password) {
  signedIn(await signIn(username, password));
  say(`Signed in as ${username}.`);
}
