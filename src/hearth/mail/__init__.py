"""E-mail: an SMTP sender on the current settings and PocketBase's auth mail templates."""
