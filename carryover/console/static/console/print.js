/* The printable instructions: the toolbar's print button. */
document.addEventListener("DOMContentLoaded", function () {
  var button = document.querySelector("[data-print]");
  if (button) {
    button.addEventListener("click", function () {
      window.print();
    });
  }
});
