// Accessibility repairs of markup that Sphinx extensions write into every page.
// tests/test_browser.py runs axe-core (WCAG 2 A/AA) on the pages with these repairs in place.
document.addEventListener("DOMContentLoaded", () => {
  // The bibliography (sphinxcontrib-bibtex, docutils): DPUB-ARIA 1.1 deprecates the role
  // doc-biblioentry; an entry of a role="list" bibliography is a list item.
  document.querySelectorAll('[role="list"] > [role="doc-biblioentry"]').forEach((entry) => {
    entry.setAttribute("role", "listitem");
  });
  // myst-nb's "Show code cell source" toggles: a fixed aria-label hid their visible text
  // from assistive technology (WCAG 2.5.3, label in name); the visible text names them.
  document.querySelectorAll('summary[aria-label="Toggle hidden content"]').forEach((summary) => {
    if (summary.textContent.trim()) summary.removeAttribute("aria-label");
  });
});
