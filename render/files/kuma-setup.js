// Uptime Kuma's admin user, created on first start with the stack's generated password, so
// that AutoKuma can log in and keep the monitors as the stack declares them. On later starts
// it checks that the password still works: if someone changed it in the dashboard, AutoKuma
// could not log in, so this exits non-zero (and AutoKuma does not start) with a message saying
// what to do. Runs in Uptime Kuma's own image, with its socket.io client, over Kuma's
// Socket.IO API (the "needSetup", "setup" and "login" events of server/server.js, 1.23).
//
// Environment: KUMA_URL, KUMA_USERNAME, KUMA_PASSWORD (secret), TIMEOUT_SECONDS (300).
"use strict";

const { io } = require("socket.io-client");

const url = process.env.KUMA_URL;
const username = process.env.KUMA_USERNAME;
const password = process.env.KUMA_PASSWORD;
const timeoutSeconds = Number(process.env.TIMEOUT_SECONDS || 300);

function finish(code, message) {
    (code === 0 ? console.log : console.error)(`kuma-setup: ${message}`);
    process.exit(code);
}

if (!url || !username || !password) {
    finish(2, "KUMA_URL, KUMA_USERNAME and KUMA_PASSWORD are required");
}

const socket = io(url, { reconnectionDelay: 2000, reconnectionDelayMax: 5000 });
const call = (event, ...args) => new Promise((resolve) => socket.emit(event, ...args, resolve));

setTimeout(() => finish(1, `no answer from ${url} in ${timeoutSeconds} s`), timeoutSeconds * 1000);

socket.once("connect", async () => {
    if (await call("needSetup")) {
        const result = await call("setup", username, password);
        if (!result.ok) {
            finish(1, `setup refused: ${result.msg}`);
        }
        finish(0, `created the admin user ${username}`);
    }
    const result = await call("login", { username, password, token: "" });
    if (result.tokenRequired) {
        finish(1, `the admin user ${username} has two-factor authentication on; AutoKuma `
            + "cannot log in with it: turn it off in the dashboard (Settings, Security)");
    }
    if (!result.ok) {
        finish(1, `the admin user ${username} cannot log in with the stack's password `
            + `(${result.msg}); set it back to the output uptimeKumaPassword in the dashboard `
            + "(Settings, Security)");
    }
    finish(0, `the admin user ${username} logs in`);
});
