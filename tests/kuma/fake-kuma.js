// A stand-in for Uptime Kuma 1.23's Socket.IO API, as far as render/files/kuma-setup.js uses
// it: "needSetup", "setup" and "login", with the answers of Kuma's server/server.js. Prints
// its port, then serves until killed; on exit it writes its users to $FAKE_KUMA_STATE.
//
// Environment: FAKE_KUMA_USERS (JSON: username -> {password, twoFA}), FAKE_KUMA_STATE (file).
"use strict";

const fs = require("fs");
const http = require("http");
const { Server } = require("socket.io");

const users = JSON.parse(process.env.FAKE_KUMA_USERS || "{}");
const calls = [];

function save() {
    fs.writeFileSync(process.env.FAKE_KUMA_STATE, JSON.stringify({ users, calls }));
}

// Kuma refuses a "Too weak" password (check-password-strength): under 6 characters, or
// without both letters and digits.
const tooWeak = (password) => password.length < 6 || !/[A-Za-z]/.test(password)
    || !/[0-9]/.test(password);

const server = http.createServer();
const io = new Server(server);
io.on("connection", (socket) => {
    socket.on("needSetup", (callback) => {
        calls.push("needSetup");
        callback(Object.keys(users).length === 0);
    });
    socket.on("setup", (username, password, callback) => {
        calls.push("setup");
        if (tooWeak(password)) {
            callback({ ok: false, msg: "Password is too weak. It should contain alphabetic and numeric characters. It must be at least 6 characters in length." });
        } else if (Object.keys(users).length !== 0) {
            callback({ ok: false, msg: "Uptime Kuma has been initialized. If you want to run setup again, please delete the database." });
        } else {
            users[username] = { password, twoFA: false };
            save();
            callback({ ok: true, msg: "Added Successfully." });
        }
    });
    socket.on("login", (data, callback) => {
        calls.push("login");
        const user = users[data.username];
        if (!user || user.password !== data.password) {
            callback({ ok: false, msg: "Incorrect username or password." });
        } else if (user.twoFA && !data.token) {
            callback({ tokenRequired: true });
        } else {
            callback({ ok: true, token: "a-jwt" });
        }
    });
});

process.on("SIGTERM", () => {
    save();
    process.exit(0);
});
server.listen(0, "127.0.0.1", () => {
    save();
    console.log(server.address().port);
});
