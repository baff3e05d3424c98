// No routes of its own: actions are reached through web.automaticRoutes.
exports.DEFAULT = {
  routes: () => ({ get: [] }),
};
