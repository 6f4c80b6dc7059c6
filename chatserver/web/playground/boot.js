// Loaded first: if any later script or stylesheet fails to load, say which one instead of "Loading…" forever.
"use strict";
window.chatserverAssetFailures = [];
window.addEventListener(
  "error",
  (event) => {
    const element = event.target;
    if (!element || element === window || !(element.src || element.href)) return; // a script error, not a load
    const url = element.src || element.href;
    window.chatserverAssetFailures.push(url);
    const show = () => {
      const main = document.getElementById("graphiql");
      if (!main) return;
      main.innerHTML = "";
      const p = document.createElement("p");
      p.className = "failure";
      p.setAttribute("role", "alert");
      p.textContent =
        "The playground could not load " + window.chatserverAssetFailures.join(", ") +
        ". Is the chatserver package installed completely (chatserver/web/vendor)? Reload to try again.";
      main.append(p);
    };
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", show);
    else show();
  },
  true, // resource load errors do not bubble; they are seen while capturing
);
