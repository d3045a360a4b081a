// "Are you sure?" in a modal <dialog>: resolves true only when the user presses the confirming button.
// Leaving the page the question is about (the browser's Back or Forward) closes it, as a "no": left open, it
// would have asked over the next page, and its button would still have done what it asked.
export function confirmDialog(text, okLabel = "Delete") {
  const dialog = document.getElementById("confirm");
  document.getElementById("confirm-text").textContent = text;
  document.getElementById("confirm-ok").textContent = okLabel;
  dialog.returnValue = "";
  dialog.showModal();
  document.getElementById("confirm-cancel").focus();
  const leave = () => dialog.close("");
  window.addEventListener("popstate", leave);
  return new Promise((resolve) =>
    dialog.addEventListener("close", () => {
      window.removeEventListener("popstate", leave);
      resolve(dialog.returnValue === "ok");
    }, { once: true }));
}
