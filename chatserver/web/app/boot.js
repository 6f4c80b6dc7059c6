// Loaded first, as a classic script: if a module or stylesheet of the app fails to load, say so instead of "Loading…".
"use strict";
window.addEventListener(
  "error",
  (event) => {
    const element = event.target;
    if (!element || element === window || !(element.src || element.href)) return; // a script error, not a load
    const show = () => {
      const app = document.getElementById("app");
      const p = document.createElement("p");
      p.className = "notice error";
      p.setAttribute("role", "alert");
      p.textContent = `The app could not load ${element.src || element.href}. Reload to try again.`;
      app.replaceChildren(p);
    };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show);
    else show();
  },
  true, // resource load errors do not bubble; they are seen while capturing
);
