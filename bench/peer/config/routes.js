// GET /api/random runs randomNumber (the HTTP scenarios use the route).
exports.DEFAULT = {
  routes: () => ({ get: [{ path: "/random", action: "randomNumber" }] }),
};
