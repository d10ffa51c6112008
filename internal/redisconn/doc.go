// Package redisconn opens clients of Redis servers, Azure Cache for Redis
// and Azure Managed Redis from a redis:// or rediss:// URL, with one of
// three kinds of authentication: none, a password (or an ACL user and its
// password), or a Microsoft Entra ID access token, refreshed before it
// expires, as the password of the identity's object id (the pattern the
// Azure documentation describes for Azure Cache for Redis).
//
// Nothing here prints or returns a secret: Describe gives a URL without its
// user information, and errors about a URL never repeat it.
package redisconn
