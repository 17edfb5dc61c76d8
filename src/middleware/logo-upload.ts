import type { NextFunction, Request, Response } from 'express';
import multer from 'multer';
import { HttpError } from '../errors';

/**
 * Well above the logo's own limit (512 KB, checked by the controller), so a slightly too large
 * image gets the form again with a message; only a body beyond this is cut off with 413.
 */
const UPLOAD_CAP_BYTES = 2 * 1024 * 1024;

const upload = multer({
  storage: multer.memoryStorage(),
  limits: {
    files: 1,
    fileSize: UPLOAD_CAP_BYTES,
    fields: 4,
    parts: 5,
    fieldSize: 1024,
    fieldNameSize: 100,
  },
}).single('logo');

/**
 * Parses the logo form (multipart/form-data) into req.body and req.file. It must run before the
 * CSRF check, which reads the token from req.body._csrf. Other bodies pass untouched. A body over
 * the cap is 413; any other malformed upload (extra files or fields, a broken body) is 400.
 */
export function logoUpload(req: Request, res: Response, next: NextFunction): void {
  void upload(req, res, (error?: unknown) => {
    if (error === undefined || error === null) return next();
    if (error instanceof multer.MulterError) {
      const status =
        error.code === 'LIMIT_FILE_SIZE' || error.code === 'LIMIT_FIELD_VALUE' ? 413 : 400;
      return next(new HttpError(status, `logo upload: ${error.code}`));
    }
    next(new HttpError(400, 'logo upload: malformed multipart body'));
  });
}
