// Replaced by the database template setup once libs/db exists.
export default function setup(): void {}
