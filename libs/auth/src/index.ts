export * from './admin-bootstrap.service';
export * from './password-hasher';
