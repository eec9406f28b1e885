import { Body, Controller, Get, HttpCode, Ip, Post, UseGuards } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
} from '@nestjs/swagger';
import { AdminGuard, CurrentPrincipal, type Principal } from '@app/auth';
import { AuthService } from './auth.service';
import { LoginBody, LoginResponse, MeResponse } from './dto/auth.dto';

@ApiTags('auth')
@Controller('api/auth')
export class AuthController {
  constructor(private readonly auth: AuthService) {}

  @Post('login')
  @HttpCode(200)
  @ApiOperation({ summary: 'Log in to the dashboard: returns a JWT for `Authorization: Bearer`' })
  @ApiOkResponse({ standardSchema: LoginResponse })
  @ApiUnauthorizedResponse({ description: 'Wrong email or password' })
  @ApiTooManyRequestsResponse({
    description: 'Too many failed logins for this email or from this address (see retry-after)',
  })
  login(@Body({ schema: LoginBody }) body: LoginBody, @Ip() ip: string): Promise<LoginResponse> {
    return this.auth.login(body.email, body.password, ip);
  }

  @Get('me')
  @UseGuards(AdminGuard)
  @ApiBearerAuth()
  @ApiOperation({ summary: 'Who the token (or master key) belongs to' })
  @ApiOkResponse({ standardSchema: MeResponse })
  me(@CurrentPrincipal() principal: Principal): Promise<MeResponse> {
    return this.auth.me(principal);
  }
}
