// The course's one script, added to every page by _config.yml (html_js_files).
//
// Code that scrolls sideways must be reachable from the keyboard. The theme makes such blocks focusable
// when the page loads, but the code of a solution is hidden then and nothing redoes it when the reader
// opens the solution: do it on every click that may have opened a hidden block.
document.addEventListener("click", (event) => {
  if (!event.target.closest(".toggle-button, .admonition-title, summary")) {
    return;
  }
  window.setTimeout(() => {
    document.querySelectorAll("main pre").forEach((pre) => {
      if (pre.scrollWidth > pre.clientWidth) {
        pre.tabIndex = 0;
      }
    });
  }, 100);
});
