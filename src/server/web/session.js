// What the server said about this page's session: may it change the library (the token cookie), and where
// the library is.
export const session = { authorized: false, library: "" };
