import { api, ApiError, saveToken, showError } from "./api.js";

const params = new URLSearchParams(location.search);
if (params.get("reason")) showError(new ApiError(401, { title: "Signed out", detail: params.get("reason") }));

document.getElementById("login-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const value = document.getElementById("token").value.trim();
  try {
    // Any read route checks the token; a 401 or 403 says it will not do.
    await api("/api/v1/toolkits", { auth: value });
  } catch (error) {
    showError(error);
    return;
  }
  saveToken(value, document.getElementById("remember").checked);
  const next = params.get("next");
  location.assign(next && next.startsWith("/") && !next.startsWith("//") ? next : "/");
});
