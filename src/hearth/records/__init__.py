"""Records: conversion between rows and API values, and the CRUD service."""
